import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PlayedDay } from '../community/jobs.js';
import type { CommunityRule } from '../community/play.js';
import { daySeed, HELD_OUT_SEED } from '../env/index.js';
import { defineCommand, println, type CommandGroup } from './command.js';
import { settleCommand } from './community-settle.js';
import { communityFrom, jsonOption, readOverrides, redisOption, runSeedOption, workersOption } from './common.js';
import { UsageError } from './errors.js';

/**
 * `rescoin community …`: the neighbourhood from the command line (docs/community-agents.md, "Command
 * line"). The community modules are imported when a command runs, so `rescoin --help` stays fast.
 */

const community = { type: 'string', default: 'citylearn-9', description: 'Community id (data/communities/) or path to a community JSON' } as const;
// Spelt out rather than imported: play.ts loads the baselines (see cli/community-settle.ts).
const RULES = ['asap', 'cheapest', 'precharge', 'mpc'] as const satisfies readonly CommunityRule[];
/** Training days when --episodes is not given, measured to fit the 10-minute end to end (docs/community-agents.md). */
// Q-learning's tables grow with the days: 200 days write about 22 MB per home (qtable.json, twice: model/ and checkpoint/).
export const DEFAULT_EPISODES = { dqn: 150, qlearning: 200 } as const;

function parseRules(value: string, flag = '--policy'): CommunityRule[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(RULES as readonly string[]).includes(n)) throw new UsageError(flag, `unknown policy "${n}"; valid: ${RULES.join(', ')}`);
  if (names.length === 0) throw new UsageError(flag, `give at least one of ${RULES.join(', ')}`);
  return names as CommunityRule[];
}

const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '-');

const simulate = defineCommand({
  name: 'simulate',
  summary: 'Play community days with rule policies (every home its rule, fitted to its feeder share) and print each day’s community J, feeder peak, P2P volume and violations',
  options: {
    community,
    policy: { type: 'string', default: 'asap,cheapest,precharge,mpc', description: `Rule, or several separated by commas: ${RULES.join(', ')} (mpc re-solves each home's MILP as the day unfolds: about 7 s a community day of 9 homes)` },
    days: { type: 'number', default: 3, integer: true, min: 1, description: 'Community days 0 … N−1 of --seed' },
    seed: { ...runSeedOption, description: 'Seed K: day d is the community day drawCommunityDay(c, daySeed(K, d))' },
    json: { ...jsonOption, description: 'Print [{ policy, days: [{ day, seed, score, operatorCost, feederPeakKw, feederExcessKwh, p2pKwh, violations }] }]' },
    workers: { ...workersOption, description: 'Worker threads playing the days, one rule’s day a job (default: the available cores); the rows are identical for any N' },
    redis: redisOption,
  },
  check: (a) => void parseRules(a.policy),
  async run(a, io) {
    const c = communityFrom(a.community);
    // Each rule's day is a job (community/jobs.ts): on this thread, the pool (--workers) or Redis (--redis).
    const { communityJobs, primeCommunity } = await import('../community/jobs.js');
    const { runJobs } = await import('../evaluation/pool.js');
    const ref = primeCommunity(c);
    const rules = parseRules(a.policy);
    const seeds = Array.from({ length: a.days }, (_, d) => daySeed(a.seed, d));
    const played = await runJobs<PlayedDay>(rules.flatMap((rule) => seeds.map((seed) => communityJobs.play({ community: ref, rule, seed, drawn: true, flows: false }))), { workers: a.workers, redis: a.redis });
    const out = rules.map((rule, k) => ({
      policy: rule,
      days: seeds.map((seed, d) => {
        const s = played[k * a.days + d].summary;
        return { day: d, seed, score: s.score, operatorCost: s.operatorCost, feederPeakKw: s.feederPeakKw, feederExcessKwh: s.feederExcessKwh, p2pKwh: s.homes.reduce((x, h) => x + h.p2pBoughtKwh, 0), violations: s.homes.reduce((x, h) => x + h.violations, 0) };
      }),
    }));
    if (a.json) return println(io.stdout, JSON.stringify(out, null, 2));
    println(io.stdout, `${c.id}: ${c.homes.length} homes, feeder ${c.feederKw} kW, market ${c.market}, seed ${a.seed}\n`);
    println(io.stdout, `${'policy'.padEnd(10)} ${'day'.padStart(4)} ${'J €'.padStart(9)} ${'operator €'.padStart(10)} ${'feeder peak kW'.padStart(14)} ${'P2P kWh'.padStart(8)} ${'violations'.padStart(10)}`);
    for (const p of out) {
      for (const d of p.days) println(io.stdout, `${p.policy.padEnd(10)} ${String(d.day).padStart(4)} ${f(d.score).padStart(9)} ${f(d.operatorCost).padStart(10)} ${f(d.feederPeakKw, 2).padStart(14)} ${f(d.p2pKwh, 2).padStart(8)} ${String(d.violations).padStart(10)}`);
      const mean = p.days.reduce((x, d) => x + d.score, 0) / p.days.length;
      println(io.stdout, `${p.policy.padEnd(10)} ${'mean'.padStart(4)} ${f(mean).padStart(9)}`);
    }
  },
});

/** community/evaluate.ts's EXACT_HOMES (not imported: evaluate.ts loads HiGHS and tfjs; a test checks they agree). */
export const EXACT_HOMES = 10;

const baseline = defineCommand({
  name: 'baseline',
  summary: 'Solve the community MILP of days (the cooperative optimum J* with the shared feeder and the community peak) and the homes’ own optima played together: status, MIP gap, value of cooperation, feeder peak; over 10 homes, the Lagrangian bound on J*',
  options: {
    community,
    day: { type: 'number', default: 0, integer: true, min: 0, description: 'First day d: the community day drawCommunityDay(c, daySeed(seed, d)), the day simulate plays' },
    days: { type: 'number', default: 1, integer: true, min: 1, description: 'Days d … d+N−1' },
    seed: { ...runSeedOption, description: 'Seed K of the days (as simulate)' },
    'time-limit': { type: 'number', default: 60, positive: true, description: 'Seconds HiGHS may spend on each community MILP (and on each home’s own MILP); a day not proven by then keeps the best schedule found' },
    lagrangian: { type: 'boolean', default: false, description: `Compute the Lagrangian dual bound on J* home by home (community/dual.ts) instead of the exact MILP; always on over ${EXACT_HOMES} homes` },
    iterations: { type: 'number', default: 12, integer: true, min: 1, description: 'With the Lagrangian bound: subgradient iterations (each solves every home once)' },
    json: { ...jsonOption, description: 'Print [{ day, seed, method, status, score, dualBound, mipGap, solveSec, feederPeakKw, ownScore, ownFeasible, valueOfCooperation }] (method "lagrangian": bound, iterations, allOptimal, ownScore, ownFeasible, gapPct of the own optima to the bound)' },
    workers: { ...workersOption, description: 'Worker threads solving the days, one day a job (default: the available cores); the rows are identical for any N, solve times aside' },
    redis: redisOption,
  },
  async run(a, io) {
    const c = communityFrom(a.community);
    const lagrangian = a.lagrangian || c.homes.length > EXACT_HOMES;
    // Each day is a job (community/jobs.ts): on this thread, the pool (--workers) or Redis (--redis), rows in day order.
    const { communityJobs, primeCommunity } = await import('../community/jobs.js');
    const { runJobs } = await import('../evaluation/pool.js');
    const ref = primeCommunity(c);
    const jobs = Array.from({ length: a.days }, (_, k) => communityJobs.baseline({ community: ref, day: a.day + k, seed: daySeed(a.seed, a.day + k), timeLimitSec: a['time-limit'], lagrangian, iterations: a.iterations }));
    const rows: Record<string, unknown>[] = await runJobs(jobs, { workers: a.workers, redis: a.redis });
    if (a.json) return println(io.stdout, JSON.stringify(rows, null, 2));
    println(io.stdout, `${c.id}: ${c.homes.length} homes, feeder ${c.feederKw} kW, market ${c.market}, seed ${a.seed}\n`);
    const n = (x: unknown, d: number) => f(x as number, d);
    if (lagrangian) {
      println(io.stdout, `${'day'.padStart(4)} ${'bound on J* €'.padStart(14)} ${'own optima J €'.padStart(14)} ${'own − bound %'.padStart(13)} ${'iterations'.padStart(10)} ${'solve s'.padStart(8)}`);
      for (const r of rows) println(io.stdout, `${String(r.day).padStart(4)} ${n(r.bound, 4).padStart(14)} ${n(r.ownScore, 4).padStart(14)} ${n(r.gapPct, 2).padStart(13)} ${String(r.iterations).padStart(10)} ${n(r.solveSec, 1).padStart(8)}${r.ownFeasible ? '' : '  (own optima break the feeder)'}${r.allOptimal ? '' : '  (some home solves not proven: their dual bounds used)'}`);
      return;
    }
    println(io.stdout, `${'day'.padStart(4)} ${'status'.padEnd(10)} ${'J* €'.padStart(9)} ${'MIP gap'.padStart(8)} ${'solve s'.padStart(8)} ${'feeder peak kW'.padStart(14)} ${'own optima J €'.padStart(14)} ${'value of cooperation €'.padStart(22)}`);
    for (const r of rows)
      println(io.stdout, `${String(r.day).padStart(4)} ${String(r.status).padEnd(10)} ${n(r.score, 4).padStart(9)} ${(r.mipGap as number).toExponential(1).padStart(8)} ${n(r.solveSec, 1).padStart(8)} ${n(r.feederPeakKw, 2).padStart(14)} ${n(r.ownScore, 4).padStart(14)} ${n(r.valueOfCooperation, 4).padStart(22)}${r.ownFeasible ? '' : '  (own optima break the feeder)'}`);
  },
});

const train = defineCommand({
  name: 'train',
  summary: 'Train the homes on community days: one DQN shared by every home (parameter sharing) or one Q-table per home; each home learns its own reward plus its share of the operator’s; writes a run folder',
  options: {
    community,
    agent: { type: 'choice', choices: ['dqn', 'qlearning'], default: 'dqn', description: 'dqn: one network for every home, each home’s observation plus a home descriptor; qlearning: one tabular agent per home' },
    episodes: { type: 'number', integer: true, min: 1, description: `Training community days (default ${DEFAULT_EPISODES.dqn} for dqn, ${DEFAULT_EPISODES.qlearning} for qlearning: about 170 s (DQN with its teacher) and 9 s on citylearn-9 on 2 shared cores; Q-learning's tables take about 22 MB per home at 200 days)` },
    seed: { ...runSeedOption, description: 'Run seed K: episode e plays the community day of daySeed(K, e); the same seed gives the same run' },
    out: { type: 'string', description: 'Run folder (default runs/community-<agent>-seed<seed>): config.json, metrics.csv (one row per day: the community J first), checkpoint/, model/' },
    resume: { type: 'boolean', default: false, description: 'Continue the run in --out from its last checkpoint (a larger --episodes extends it)' },
    overwrite: { type: 'boolean', default: false, description: 'Replace a run already in --out' },
    config: { type: 'string', description: 'JSON file of overrides of community/config.ts, e.g. {"dqn": {"learningRate": 0.001}, "operatorShare": false}' },
    'checkpoint-minutes': { type: 'number', default: 2, positive: true, description: 'Minutes between checkpoints (one is also written at the end)' },
    json: { ...jsonOption, description: 'Print { dir, episodes, seconds, steps, updates, lastMeanScore }' },
  },
  check(a) {
    if (a.resume && a.overwrite) throw new UsageError(['--resume', '--overwrite'], 'expected at most one of them');
  },
  async run(a, io) {
    const c = communityFrom(a.community);
    const out = a.out ?? join('runs', `community-${a.agent}-seed${a.seed}`);
    const held = existsSync(join(out, 'config.json'));
    if (!a.resume && !a.overwrite && held) throw new UsageError('--out', `${out} already holds a run: add --resume to continue it, --overwrite to replace it, or choose another --out`);
    if (a.resume && !held) throw new UsageError('--resume', `${out} holds no run to resume (no config.json)`);
    const overrides = a.config === undefined ? {} : readOverrides(a.config);
    const { resolveCommunityConfig } = await import('../community/config.js');
    try {
      resolveCommunityConfig(overrides);
    } catch (e) {
      throw new UsageError('--config', (e as Error).message);
    }
    const { trainCommunity } = await import('../community/train.js');
    const episodes = a.episodes ?? DEFAULT_EPISODES[a.agent];
    const every = Math.max(1, Math.round(episodes / 10));
    const r = await trainCommunity({ community: c, algorithm: a.agent, episodes, seed: a.seed, out, resume: a.resume, overwrite: a.overwrite, overrides, checkpointMinutes: a['checkpoint-minutes'], onEpisode: (e, row) => {
      if (!a.json && (e + 1) % every === 0) println(io.stderr, `episode ${e + 1}/${episodes}: community J ${f(row.score)} €, feeder peak ${f(row.feederPeakKw, 2)} kW`);
    } });
    if (a.json) return println(io.stdout, JSON.stringify(r, null, 2));
    println(io.stdout, `trained ${a.agent} on ${c.id} for ${r.episodes} community days (${r.steps.toLocaleString('en-US')} home-steps, ${r.updates.toLocaleString('en-US')} updates) in ${r.seconds.toFixed(1)} s: ${r.dir}; mean community J of the last days ${f(r.lastMeanScore)} €`);
  },
});

const evaluate = defineCommand({
  name: 'evaluate',
  summary: 'Play rules, trained runs, the homes’ own optima together and the community optimum on the same held-out days; print the KPIs per home and for the community and the gap to J*; write report.json and report.md',
  options: {
    community,
    runs: { type: 'list', default: [], description: 'Run folders of rescoin community train to evaluate (their model/)' },
    policy: { type: 'string', default: 'asap,cheapest,precharge,mpc', description: `Rules to play, separated by commas: ${RULES.join(', ')} (asap is always played: the gap needs it; mpc takes about 7 s a community day of 9 homes)` },
    days: { type: 'number', default: 3, integer: true, min: 1, description: 'Held-out days 0 … N−1 of --seed' },
    seed: { type: 'number', default: HELD_OUT_SEED, integer: true, min: 0, description: 'Seed of the held-out days (heldOutDay(d, seed); no run trains on them)' },
    'time-limit': { type: 'number', default: 30, positive: true, description: 'Seconds HiGHS may spend on each day’s community MILP; a day not proven by then keeps the best schedule (its status and MIP gap are reported)' },
    'window-hours': { type: 'number', default: 24, positive: true, description: 'KPI window in hours (24 h = 96 slots of 15 min; CityLearn’s 24-step "daily" windows are 6 h here): peak, load factor and ramping are means over windows' },
    homes: { type: 'string', description: 'The policy whose per-home KPI table is printed (default: the first run, else the optimum); report.md has every policy’s' },
    out: { type: 'string', default: 'reports/community', description: 'Report folder: report.json and report.md' },
    json: { ...jsonOption, description: 'Print { policies: [{ name, kind, meanScore, gapPct, violations, days: [{ day, seed, score, … }], community: KPIs, homes: [KPIs] }], optimum, valueOfCooperation }' },
    workers: { ...workersOption, description: 'Worker threads playing the rules’ days and solving each day’s own optima and community MILP, one job each (default: the available cores; trained runs play here); the report is identical for any N, solve times aside' },
    redis: redisOption,
  },
  check(a) {
    parseRules(a.policy);
    if (!Number.isInteger(a['window-hours'] * 4)) throw new UsageError('--window-hours', `expected a multiple of 0.25 h (a 15-minute slot), got ${a['window-hours']}`);
    if (a['window-hours'] <= 24 ? 24 % a['window-hours'] !== 0 : a['window-hours'] % 24 !== 0 || (a.days * 24) % a['window-hours'] !== 0)
      throw new UsageError('--window-hours', `expected hours that divide 24, or a multiple of 24 dividing the ${a.days * 24} h of --days, got ${a['window-hours']}`);
  },
  async run(a, io) {
    const c = communityFrom(a.community);
    for (const r of a.runs) if (!existsSync(join(r, 'config.json'))) throw new UsageError('--runs', `${r} is not a run folder (no config.json)`);
    const rules = parseRules(a.policy);
    const names = ['asap', ...rules, ...a.runs.map((r) => r.split(/[\\/]/).filter(Boolean).at(-1) ?? r), 'own-optima', 'optimum'];
    if (a.homes !== undefined && !names.includes(a.homes)) throw new UsageError('--homes', `no policy "${a.homes}" is evaluated; expected one of ${[...new Set(names)].join(', ')}`);
    const { evaluateCommunity } = await import('../community/evaluate.js');
    const { formatReport } = await import('../community/report.js');
    const r = await evaluateCommunity({ community: c, days: a.days, seed: a.seed, rules, runs: a.runs, timeLimitSec: a['time-limit'], windowHours: a['window-hours'], out: a.out, workers: a.workers, redis: a.redis, onDay: (what, d) => void (a.json || println(io.stderr, `${what}: day ${d}`)), onProgress: (done, total) => void (a.json || println(io.stderr, `rules and optimum: ${done}/${total} days`)) });
    if (a.json) {
      const policies = r.policies.map((p) => ({ name: p.name, kind: p.kind, meanScore: p.meanScore, gapPct: p.gapPct, violations: p.violations, days: p.days, community: p.kpis.community, homes: p.kpis.homes.map((k, i) => ({ id: r.homes[i], score: p.homeScores[i], ...k })) }));
      return println(io.stdout, JSON.stringify({ policies, optimum: r.optimum, valueOfCooperation: r.valueOfCooperation }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
    }
    println(io.stdout, formatReport(r, 'text', a.homes));
    println(io.stdout, `report: ${join(a.out, 'report.md')}`);
  },
});

export const communityCommand: CommandGroup = {
  name: 'community',
  summary: 'A neighbourhood of homes behind one feeder, trading peer to peer: simulate, baseline (community MILP), train, evaluate (KPIs), settle on the ledger',
  commands: [simulate, baseline, train, evaluate, settleCommand],
};
