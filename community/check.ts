import { Box, MultiDiscrete, Rng, sampleAllowed, type HomeView } from '../env/index.js';

/**
 * # checkParallelEnv: PettingZoo's parallel_api_test in our terms (as env/check.ts is Gymnasium's)
 *
 * Plays `days` whole community days with jointly allowed random actions (env/rules.ts
 * `sampleAllowed` on each home's live view, which honours the feeder cap through `limitKw`) and
 * throws an Error listing every problem found, or returns what it played. It checks:
 * - agents: `possibleAgents` non-empty and unique; `agents` ⊆ `possibleAgents`, all of them after
 *   `reset`, emptied when every home has terminated;
 * - spaces: `observationSpace(id)` / `actionSpace(id)` the same object at every call, a Box and a
 *   MultiDiscrete;
 * - dicts: reset's observations and infos, and step's five dicts, keyed by exactly the agents live
 *   before the call; observations Float32Arrays inside their Box; masks of the right length with ≥ 1
 *   allowed value per component; rewards finite;
 * - rules: allowed actions are never corrected (violations 0); the feeder holds every slot:
 *   Σ net ≤ feederKw + 1e-6, plus the `feederExcessKw` the infos that came with that slot's masks
 *   report (the forced loads alone exceed the feeder then, and every home is capped at its own);
 * - the score identity: Σ rewards + Σ operatorReward = −summary.score, and each home's return =
 *   −its own score (to 1e-9, relative);
 * - errors: `step` before `reset` and after the day's end throw an error that mentions reset;
 * - `state()` keeps one length; the same seed and actions give the same observations and rewards
 *   bit for bit.
 *
 * The env is typed by what the check uses (community/env.ts's CommunityEnv has it), so a wrapper
 * that breaks one rule can be checked too.
 */
export interface CheckReport {
  days: number;
  /** Community steps played (each steps every live home). */
  steps: number;
}

export interface CheckInfo {
  slot: number;
  actionMask: Uint8Array;
  violations: number;
  home: HomeView;
  feederExcessKw: number;
  day?: { score: number };
}

export interface CheckableEnv {
  readonly community: { readonly feederKw: number };
  readonly possibleAgents: readonly string[];
  readonly agents: readonly string[];
  observationSpace(id: string): unknown;
  actionSpace(id: string): unknown;
  reset(opts?: { seed?: number }): { observations: Record<string, Float32Array>; infos: Record<string, CheckInfo> };
  step(actions: Record<string, ArrayLike<number>>): {
    observations: Record<string, Float32Array>;
    rewards: Record<string, number>;
    terminations: Record<string, boolean>;
    truncations: Record<string, boolean>;
    infos: Record<string, CheckInfo>;
    operatorReward: number;
  };
  state(): Float32Array;
  trajectory(): { homes: readonly { importKw: ArrayLike<number>; exportKw: ArrayLike<number> }[]; summary?: { score: number } };
}

const FEEDER_TOL = 1e-6;
const MAX_STEPS = 10_000;

type Fail = (msg: string) => void;

interface Trace {
  obs: Float32Array[];
  rewards: number[];
}

export function checkParallelEnv(env: CheckableEnv, opts: { days?: number; seed?: number } = {}): CheckReport {
  const days = opts.days ?? 2;
  const seed = opts.seed ?? 12345;
  const problems: string[] = [];
  const fail: Fail = (msg) => problems.push(msg);
  const ids = [...env.possibleAgents];

  if (ids.length === 0) fail('possibleAgents is empty');
  if (new Set(ids).size !== ids.length) fail(`possibleAgents has duplicates: ${dupes(ids).join(', ')}`);
  const spaces = new Map<string, { box: Box; act: MultiDiscrete }>();
  for (const id of ids) {
    const box = env.observationSpace(id);
    const act = env.actionSpace(id);
    if (box !== env.observationSpace(id)) fail(`observationSpace("${id}") returned a new object on a second call; it must return the same object`);
    if (act !== env.actionSpace(id)) fail(`actionSpace("${id}") returned a new object on a second call; it must return the same object`);
    if (!(box instanceof Box)) fail(`observationSpace("${id}") is not a Box`);
    if (!(act instanceof MultiDiscrete)) fail(`actionSpace("${id}") is not a MultiDiscrete`);
    if (box instanceof Box && act instanceof MultiDiscrete) spaces.set(id, { box, act });
  }
  if (problems.length) throw new Error(report(problems));

  expectResetError(fail, 'step() before reset()', () => env.step(Object.fromEntries(ids.map((id) => [id, new Int32Array(spaces.get(id)!.act.nvec.length)]))));

  const a = env.reset({ seed });
  const b = env.reset({ seed });
  for (const id of ids) {
    if (!sameArray(a.observations[id] ?? [], b.observations[id] ?? [])) fail(`reset() with the same seed gave "${id}" different observations`);
    if (!sameArray(a.infos[id]?.actionMask ?? [], b.infos[id]?.actionMask ?? [])) fail(`reset() with the same seed gave "${id}" a different action mask`);
  }

  let steps = 0;
  let trace0: Trace | null = null;
  for (let d = 0; d < days; d++) {
    const trace: Trace = { obs: [], rewards: [] };
    try {
      steps += playDay(env, ids, spaces, seed + d, `day ${d}`, fail, trace);
    } catch (e) {
      // An env that throws mid-day still gets the problems found so far listed with the throw.
      fail(`day ${d}: the env threw: ${(e as Error)?.message ?? String(e)}`);
      break;
    }
    if (d === 0) trace0 = trace;
  }
  if (trace0) replay(env, ids, spaces, seed, trace0, fail);
  if (problems.length) throw new Error(report(problems));
  return { days, steps };
}

/** One day from reset to the end; returns the steps played. */
function playDay(env: CheckableEnv, ids: string[], spaces: Map<string, { box: Box; act: MultiDiscrete }>, seed: number, where: string, fail: Fail, trace: Trace): number {
  const rng = new Rng(seed);
  const r0 = env.reset({ seed });
  let live = [...env.agents];
  if (!sameSet(live, ids)) fail(`${where}: agents after reset() are [${live.join(', ')}]; expected every possible agent`);
  checkKeys(where, 'reset', 'observations', r0.observations, live, fail);
  checkKeys(where, 'reset', 'infos', r0.infos, live, fail);
  let observations = r0.observations;
  let infos = r0.infos;
  const stateLength = env.state().length;
  const returns = new Map(ids.map((id) => [id, 0]));
  let total = 0;
  const excess: number[] = [];
  let steps = 0;
  for (let t = 0; live.length > 0; t++) {
    const at = `${where} slot ${t}`;
    for (const id of live) {
      const sp = spaces.get(id)!;
      checkObservation(at, id, sp.box, observations[id], fail);
      checkMask(at, id, sp.act, infos[id], fail);
    }
    excess[t] = maxExcess(infos, live);
    trace.obs.push(flatten(observations, ids));
    const actions: Record<string, Int32Array> = {};
    for (const id of live) {
      const info = infos[id];
      actions[id] = info?.home ? sampleAllowed(info.home, rng, new Int32Array(spaces.get(id)!.act.nvec.length)) : new Int32Array(spaces.get(id)!.act.nvec.length);
    }
    const r = env.step(actions);
    steps++;
    for (const [name, dict] of [['observations', r.observations], ['rewards', r.rewards], ['terminations', r.terminations], ['truncations', r.truncations], ['infos', r.infos]] as const)
      checkKeys(at, 'step', name, dict, live, fail);
    for (const id of live) {
      const rew = r.rewards[id];
      if (!Number.isFinite(rew)) fail(`${at}: rewards["${id}"] = ${rew} is not finite`);
      else returns.set(id, returns.get(id)! + rew);
      total += Number.isFinite(rew) ? rew : 0;
      trace.rewards.push(rew);
      const v = r.infos[id]?.violations;
      if (v !== 0) fail(`${at}: an allowed action of "${id}" was corrected (violations ${v})`);
    }
    if (!Number.isFinite(r.operatorReward)) fail(`${at}: operatorReward = ${r.operatorReward} is not finite`);
    total += Number.isFinite(r.operatorReward) ? r.operatorReward : 0;
    trace.rewards.push(r.operatorReward);
    const st = env.state();
    if (!(st instanceof Float32Array) || st.length !== stateLength) fail(`${at}: state() has length ${st.length}; it had ${stateLength} after reset()`);
    const ended = live.filter((id) => r.terminations[id] === true || r.truncations[id] === true);
    const expected = live.filter((id) => !ended.includes(id));
    const now = [...env.agents];
    const strays = now.filter((id) => !ids.includes(id));
    if (strays.length) fail(`${at}: agents [${strays.join(', ')}] are not in possibleAgents`);
    if (!sameSet(now, expected)) fail(`${at}: agents are [${short(now)}] after step(); expected the live agents less those that terminated or truncated: [${short(expected)}]`);
    observations = r.observations;
    infos = r.infos;
    if (ended.length === live.length) {
      for (const id of live) checkObservation(`${where} end`, id, spaces.get(id)!.box, observations[id], fail);
      finishDay(env, ids, where, returns, total, r.infos, excess, fail);
      expectResetError(fail, `${where}: step() after every agent terminated`, () => env.step(actions));
      break;
    }
    live = expected;
    if (t >= MAX_STEPS) {
      fail(`${where}: no end after ${MAX_STEPS} steps`);
      break;
    }
  }
  return steps;
}

/** The day's end: the score identity and the feeder, from the env's own trajectory. */
function finishDay(env: CheckableEnv, ids: string[], where: string, returns: Map<string, number>, total: number, infos: Record<string, CheckInfo>, excess: number[], fail: Fail): void {
  for (const id of ids) {
    const score = infos[id]?.day?.score;
    if (score === undefined) fail(`${where}: infos["${id}"].day is missing on the last step`);
    else if (!near(returns.get(id)!, -score)) fail(`${where}: "${id}"'s return ${returns.get(id)} is not −its score (${score})`);
  }
  const log = env.trajectory();
  const J = log.summary?.score;
  if (J === undefined) fail(`${where}: trajectory().summary is missing at the day's end`);
  else if (!near(total, -J)) fail(`${where}: Σ rewards + Σ operatorReward = ${total}, not −summary.score (${-J})`);
  if (log.homes.length !== ids.length) {
    fail(`${where}: trajectory() has ${log.homes.length} homes; expected ${ids.length}`);
    return;
  }
  const feederKw = env.community.feederKw;
  for (let t = 0; t < excess.length; t++) {
    let g = 0;
    for (const h of log.homes) g += h.importKw[t] - h.exportKw[t];
    if (g <= feederKw + excess[t] + FEEDER_TOL) continue;
    if (excess[t] > 0) fail(`${where} slot ${t}: the feeder carries ${g.toFixed(6)} kW, more than its ${feederKw} kW plus the ${excess[t]} kW of forced excess the infos report`);
    else fail(`${where} slot ${t}: the feeder carries ${g.toFixed(6)} kW > its ${feederKw} kW, and no info reports feederExcessKw`);
  }
}

/** Replay day 0 with the same seed and the same random actions: the same numbers, bit for bit. */
function replay(env: CheckableEnv, ids: string[], spaces: Map<string, { box: Box; act: MultiDiscrete }>, seed: number, want: Trace, fail: Fail): void {
  const got: Trace = { obs: [], rewards: [] };
  try {
    playDay(env, ids, spaces, seed, 'replay of day 0', () => {}, got);
  } catch (e) {
    fail(`replaying day 0 threw: ${(e as Error).message}`);
    return;
  }
  const t = want.obs.findIndex((o, k) => !got.obs[k] || !sameArray(o, got.obs[k]));
  if (t >= 0 || got.obs.length !== want.obs.length) fail(`replaying day 0 with the same seed and actions gave different observations at slot ${t >= 0 ? t : want.obs.length}`);
  const k = want.rewards.findIndex((r, i) => !Object.is(r, got.rewards[i]));
  if (k >= 0 || got.rewards.length !== want.rewards.length) fail(`replaying day 0 with the same seed and actions gave different rewards (reward #${k >= 0 ? k : want.rewards.length})`);
}

function checkKeys(where: string, call: string, name: string, dict: Record<string, unknown> | undefined, live: readonly string[], fail: Fail): void {
  if (typeof dict !== 'object' || dict === null) {
    fail(`${where}: ${call}() returned no ${name} dict`);
    return;
  }
  const keys = Object.keys(dict);
  if (sameSet(keys, live)) return;
  const extra = keys.filter((k) => !live.includes(k));
  const missing = live.filter((k) => !(k in dict));
  fail(`${where}: ${call}()'s ${name} must be keyed by exactly the live agents${missing.length ? `; missing [${short(missing)}]` : ''}${extra.length ? `; not live [${short(extra)}]` : ''}`);
}

function checkObservation(where: string, id: string, box: Box, obs: unknown, fail: Fail): void {
  if (!(obs instanceof Float32Array) || obs.length !== box.low.length) {
    fail(`${where}: observations["${id}"] is not a Float32Array of length ${box.low.length}`);
    return;
  }
  const out = box.firstOutside(obs);
  if (out) fail(`${where}: observations["${id}"][${out.index}] = ${out.value} is outside [${box.low[out.index]}, ${box.high[out.index]}]`);
}

function checkMask(where: string, id: string, act: MultiDiscrete, info: CheckInfo | undefined, fail: Fail): void {
  const m = info?.actionMask;
  const length = act.nvec.reduce((s, n) => s + n, 0);
  if (!(m instanceof Uint8Array) || m.length !== length) {
    fail(`${where}: infos["${id}"].actionMask must be a Uint8Array of length ${length}`);
    return;
  }
  let off = 0;
  for (let c = 0; c < act.nvec.length; c++) {
    let any = 0;
    for (let k = 0; k < act.nvec[c]; k++) any |= m[off + k];
    if (!any) fail(`${where}: infos["${id}"].actionMask allows no value of component ${c}`);
    off += act.nvec[c];
  }
  const x = info!.feederExcessKw;
  if (!(x >= 0) || !Number.isFinite(x)) fail(`${where}: infos["${id}"].feederExcessKw = ${x}; expected a finite number ≥ 0`);
}

function expectResetError(fail: Fail, what: string, call: () => unknown): void {
  try {
    call();
  } catch (e) {
    if (!/reset/i.test(String((e as Error)?.message))) fail(`${what} threw an error that does not mention reset: ${(e as Error)?.message}`);
    return;
  }
  fail(`${what} did not throw`);
}

/** The forced excess the infos of a slot report (the largest, should they differ). */
function maxExcess(infos: Record<string, CheckInfo>, live: readonly string[]): number {
  let x = 0;
  for (const id of live) {
    const v = infos[id]?.feederExcessKw;
    if (v !== undefined && v > x) x = v;
  }
  return x;
}

function flatten(observations: Record<string, Float32Array>, ids: string[]): Float32Array {
  const parts = ids.map((id) => observations[id]).filter((o) => o instanceof Float32Array);
  const out = new Float32Array(parts.reduce((s, o) => s + o.length, 0));
  let off = 0;
  for (const o of parts) {
    out.set(o, off);
    off += o.length;
  }
  return out;
}

function near(x: number, y: number): boolean {
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return s.size === a.length && b.every((x) => s.has(x));
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function dupes(ids: string[]): string[] {
  return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
}

function short(xs: readonly string[]): string {
  return xs.length > 6 ? `${xs.slice(0, 6).join(', ')}, … (${xs.length})` : xs.join(', ');
}

function report(problems: string[]): string {
  const shown = problems.slice(0, 20);
  return `checkParallelEnv found ${problems.length} problem(s):\n  ${shown.join('\n  ')}${problems.length > shown.length ? '\n  …' : ''}`;
}
