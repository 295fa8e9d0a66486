import { makeEnv, playDay, type Day, type Policy, type Scenario } from '../env/index.js';
import { asapPolicy, mpcPolicy, prechargePolicy, solveDay } from '../baseline/index.js';
import { gapPct } from '../evaluation/stats.js';

/**
 * The references of `npm run bench:train`, computed once and shared by every training seed: J* and
 * asap (the gap's two ends), the tuned rule and the MPC, all on the same held-out days.
 */

export interface Played {
  /** J of each day. */
  j: number[];
  violations: number;
}

export interface RefGap {
  policy: string;
  gapPct: number;
  violations: number;
  seconds: number;
}

export interface References {
  jStar: number[];
  jAsap: number[];
  /** Days (indices) whose J* HiGHS did not prove optimal within the time limit. */
  unprovenDays: number[];
  rule: RefGap;
  mpcExpected: RefGap;
  /** Null when not played (BENCH_TRAIN_MPC_SCENARIOS unset: ~30 s a day). */
  mpcScenarios: RefGap | null;
  /** The lower gap of the MPC modes played. */
  betterMpc: RefGap;
}

export async function playAll(s: Scenario, policy: Policy, days: readonly Day[]): Promise<Played> {
  const env = makeEnv(s);
  const j: number[] = [];
  let violations = 0;
  for (const day of days) {
    const { summary } = await playDay(env, policy, day);
    j.push(summary.score);
    violations += summary.violations;
  }
  return { j, violations };
}

export async function references(s: Scenario, days: readonly Day[], opts: { timeLimitSec: number; scenarios: boolean; log: (line: string) => void }): Promise<References> {
  const jStar: number[] = [];
  const unprovenDays: number[] = [];
  const t0 = performance.now();
  for (const [d, day] of days.entries()) {
    const r = await solveDay(s, day, { timeLimitSec: opts.timeLimitSec });
    jStar.push(r.score);
    if (r.status !== 'optimal') unprovenDays.push(d);
  }
  opts.log(`J* of ${days.length} days in ${((performance.now() - t0) / 1000).toFixed(0)} s (${unprovenDays.length} not proven optimal in ${opts.timeLimitSec} s)`);
  const jAsap = (await playAll(s, asapPolicy(), days)).j;
  const gapOf = async (policy: Policy): Promise<RefGap> => {
    const t = performance.now();
    const r = await playAll(s, policy, days);
    const g = { policy: policy.name, gapPct: gapPct(r.j, jStar, jAsap), violations: r.violations, seconds: (performance.now() - t) / 1000 };
    opts.log(`${g.policy}: gap ${g.gapPct.toFixed(1)} %, ${g.violations} violations (${g.seconds.toFixed(0)} s)`);
    return g;
  };
  const rule = await gapOf(prechargePolicy(s));
  const mpcExpected = await gapOf(mpcPolicy(s));
  const mpcScenarios = opts.scenarios ? await gapOf(mpcPolicy(s, { forecast: 'scenarios' })) : null;
  const betterMpc = mpcScenarios && mpcScenarios.gapPct < mpcExpected.gapPct ? mpcScenarios : mpcExpected;
  return { jStar, jAsap, unprovenDays, rule, mpcExpected, mpcScenarios, betterMpc };
}
