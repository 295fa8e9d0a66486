import type { Env, StepInfo } from './home.js';
import { Box, Discrete, MultiDiscrete } from './spaces.js';
import { Rng } from './rng.js';
import { sampleAllowed } from './rules.js';

/**
 * Gymnasium's env checker in our terms. Throws an Error listing every problem found, or returns
 * what it checked. It plays `days` whole days with jointly allowed random actions.
 */
export interface CheckReport {
  days: number;
  steps: number;
}

type AnyEnv = Env<Float32Array, never>;

export function checkEnv(env: Env<Float32Array, never> | Env<Float32Array, unknown>, opts: { days?: number; seed?: number } = {}): CheckReport {
  const e = env as AnyEnv;
  const days = opts.days ?? 3;
  const problems: string[] = [];
  const fail = (msg: string) => problems.push(msg);

  if (!(e.observationSpace instanceof Box)) fail('observationSpace must be a Box');
  const space = e.actionSpace as unknown;
  if (!(space instanceof MultiDiscrete) && !(space instanceof Discrete)) fail('actionSpace must be Discrete or MultiDiscrete');
  if (problems.length) throw new Error(report(problems));
  const box = e.observationSpace;
  const maskLength = space instanceof MultiDiscrete ? space.nvec.reduce((a, b) => a + b, 0) : (space as Discrete).n;

  // Step before reset must be a clear error, not garbage.
  try {
    const fresh = e as unknown as { step(a: unknown): unknown };
    fresh.step(space instanceof Discrete ? 0 : new Int32Array((space as MultiDiscrete).nvec.length));
    fail('step() before reset() did not throw');
  } catch (err) {
    if (!/reset/i.test(String((err as Error).message))) fail(`step() before reset() threw an unclear error: ${(err as Error).message}`);
  }

  const seed = opts.seed ?? 12345;
  const a = e.reset({ seed });
  const b = e.reset({ seed });
  if (!sameArray(a.observation, b.observation)) fail('reset() with the same seed gave different observations');
  if (!sameArray(a.info.actionMask, b.info.actionMask) || a.info.slot !== b.info.slot) fail('reset() with the same seed gave different info');

  let steps = 0;
  const traces: number[][] = [];
  for (let d = 0; d < days; d++) {
    const rng = new Rng(seed + d);
    let { observation, info } = e.reset({ seed: seed + d });
    let ret = 0;
    const trace: number[] = [];
    for (let t = 0; ; t++) {
      checkObservation(box, observation, t, fail);
      checkMask(info, maskLength, space, t, fail);
      const action = chooseAllowed(space, info, rng);
      const r = e.step(action as never);
      steps++;
      ret += r.reward;
      trace.push(r.reward);
      if (r.info.violations !== 0) fail(`day ${d} slot ${t}: an allowed action was corrected ${r.info.violations} time(s)`);
      if (!Number.isFinite(r.reward)) fail(`day ${d} slot ${t}: reward ${r.reward} is not finite`);
      observation = r.observation;
      info = r.info;
      if (r.terminated || r.truncated) {
        checkObservation(box, observation, t + 1, fail);
        const score = r.info.day?.score;
        if (score === undefined) fail(`day ${d}: info.day is missing on the last step`);
        else if (Math.abs(ret + score) > 1e-9 * Math.max(1, Math.abs(score))) fail(`day ${d}: return ${ret} is not −info.day.score (${score})`);
        try {
          e.step(action as never);
          fail(`day ${d}: step() after the day ended did not throw`);
        } catch {
          // expected
        }
        break;
      }
      if (t > 10_000) {
        fail(`day ${d}: no end after 10,000 steps`);
        break;
      }
    }
    traces.push(trace);
  }
  // Same seed, same actions: the same rewards, bit for bit.
  const rng = new Rng(seed);
  let { info } = e.reset({ seed });
  for (let t = 0; t < traces[0].length; t++) {
    const r = e.step(chooseAllowed(space, info, rng) as never);
    if (!Object.is(r.reward, traces[0][t])) {
      fail(`replaying day 0 with the same seed and actions gave a different reward at slot ${t}`);
      break;
    }
    info = r.info;
  }
  if (problems.length) throw new Error(report(problems));
  return { days, steps };
}

function chooseAllowed(space: unknown, info: StepInfo, rng: Rng): number | Int32Array {
  if (space instanceof Discrete) return space.sample(rng, info.actionMask);
  return sampleAllowed(info.home, rng, new Int32Array((space as MultiDiscrete).nvec.length));
}

function checkObservation(box: Box, obs: Float32Array, t: number, fail: (m: string) => void) {
  if (!(obs instanceof Float32Array) || obs.length !== box.low.length) {
    fail(`slot ${t}: observation is not a Float32Array of length ${box.low.length}`);
    return;
  }
  const out = box.firstOutside(obs);
  if (out) fail(`slot ${t}: observation[${out.index}] = ${out.value} is outside [${box.low[out.index]}, ${box.high[out.index]}]`);
}

function checkMask(info: StepInfo, length: number, space: unknown, t: number, fail: (m: string) => void) {
  const m = info.actionMask;
  if (!(m instanceof Uint8Array) || m.length !== length) {
    fail(`slot ${t}: actionMask must be a Uint8Array of length ${length}`);
    return;
  }
  if (space instanceof MultiDiscrete) {
    let off = 0;
    for (let c = 0; c < space.nvec.length; c++) {
      let any = 0;
      for (let k = 0; k < space.nvec[c]; k++) any |= m[off + k];
      if (!any) fail(`slot ${t}: component ${c} has no allowed value`);
      off += space.nvec[c];
    }
  } else if (!m.some((x) => x === 1)) fail(`slot ${t}: no allowed action`);
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function report(problems: string[]): string {
  const shown = problems.slice(0, 20);
  return `checkEnv found ${problems.length} problem(s):\n  ${shown.join('\n  ')}${problems.length > shown.length ? '\n  …' : ''}`;
}
