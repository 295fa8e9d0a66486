/** Loading and creating agents for a run: the algorithm's class, its backend, and a check that its observation is the one the env gives now. */
import { basename, join } from 'node:path';
import { flatCodec, loadScenario, observationLayout, type Policy, type Scenario } from '../env/index.js';
import { agentPolicy, type Agent, type Algorithm } from '../agents/agent.js';
import type { DqnConfig, QLearningConfig } from '../agents/config.js';
import { readRunConfig, scenarioHash, type RunConfig } from './run-dir.js';

/** A fresh agent for a run; `totalSteps` sets DQN's ε schedule. */
export async function createAgent(run: RunConfig, scenario: Scenario, totalSteps: number): Promise<Agent> {
  const nActions = flatCodec(scenario).n;
  if (run.algorithm === 'qlearning') {
    const { QLearningAgent } = await import('../agents/qlearning.js');
    return new QLearningAgent({ layout: observationLayout(scenario), nActions, config: run.config as QLearningConfig, seed: run.seed, totalEpisodes: run.episodes });
  }
  const { initBackend } = await import('../models/backend.js');
  await initBackend('auto');
  const { DqnAgent } = await import('../agents/dqn.js');
  return new DqnAgent({ obsSize: observationLayout(scenario).length, nActions, config: run.config as DqnConfig, seed: run.seed, totalSteps });
}

/**
 * Loads a saved agent (with `policyOnly`, only what acting needs, as a run's model/ holds); with
 * `scenario`, refuses one whose observation does not match what the
 * environment shows now (an agent saved before a feature was added would read every later feature
 * from the wrong place, silently).
 */
export async function loadAgent(algorithm: Algorithm, dir: string, scenario?: Scenario, opts: { policyOnly?: boolean } = {}): Promise<Agent> {
  let agent: Agent;
  let seen: string;
  if (algorithm === 'qlearning') {
    const { QLearningAgent } = await import('../agents/qlearning.js');
    const q = await QLearningAgent.load(dir);
    [agent, seen] = [q, q.layout.map((f) => f.name).join(', ')];
  } else {
    const { initBackend } = await import('../models/backend.js');
    await initBackend('auto');
    const { DqnAgent } = await import('../agents/dqn.js');
    const d = opts.policyOnly ? await DqnAgent.loadPolicyOnly(dir) : await DqnAgent.load(dir);
    [agent, seen] = [d, `${d.obsSize} features`];
  }
  if (scenario) {
    const layout = observationLayout(scenario);
    const now = algorithm === 'qlearning' ? layout.map((f) => f.name).join(', ') : `${layout.length} features`;
    if (seen !== now) {
      agent.dispose();
      throw new Error(`${dir}: the agent was trained on observations of [${seen}], but the environment now gives [${now}]: retrain it with this version`);
    }
  }
  return agent;
}

/**
 * A trained run folder as a greedy masked Policy named after the folder (what `rescoin evaluate`
 * plays). The scenario defaults to the run's own, found by its id; a scenario that is not the one
 * the run was trained on (by content hash) is refused.
 */
export async function loadTrainedPolicy(dir: string, scenario?: Scenario): Promise<{ policy: Policy; run: RunConfig; scenario: Scenario }> {
  const run = readRunConfig(dir);
  const s = scenario ?? loadScenario(run.scenario);
  // The hash covers the id and every field: the same home wherever its file now lies.
  if (run.scenarioHash !== scenarioHash(s))
    throw new Error(`${dir} was trained on scenario ${run.scenario} (hash ${run.scenarioHash}), not on ${s.id} (hash ${scenarioHash(s)})`);
  const agent = await loadAgent(run.algorithm, join(dir, 'model'), s, { policyOnly: true });
  return { policy: agentPolicy(basename(dir), agent, s), run, scenario: s };
}
