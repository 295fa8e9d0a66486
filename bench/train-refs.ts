import { makeEnv, type Day, type Policy, type Scenario } from '../env/index.js';
import { asapPolicy, mpcPolicy, prechargePolicy } from '../baseline/index.js';
import { gapPct } from '../evaluation/stats.js';
import { optimum, playAll } from './refs.js';

export { playAll, type Played } from './refs.js';

/**
 * The references of `npm run bench:train`, computed once and shared by every training seed: J* and
 * asap (the gap's two ends), the tuned rule and the MPC, all on the same held-out days.
 */

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

export async function references(s: Scenario, days: readonly Day[], opts: { timeLimitSec: number; scenarios: boolean; log: (line: string) => void }): Promise<References> {
  const t0 = performance.now();
  const { jStar, unprovenDays } = await optimum(s, days, opts.timeLimitSec);
  opts.log(`J* of ${days.length} days in ${((performance.now() - t0) / 1000).toFixed(0)} s (${unprovenDays.length} not proven optimal in ${opts.timeLimitSec} s)`);
  const env = makeEnv(s);
  const jAsap = (await playAll(env, asapPolicy(), days)).j;
  const gapOf = async (policy: Policy): Promise<RefGap> => {
    const t = performance.now();
    const r = await playAll(env, policy, days);
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
