import { playDay, type Day, type HomeEnv, type Policy, type Scenario } from '../env/index.js';
import { solveDay } from '../baseline/index.js';

/** What the benchmarks that score policies share: playing a policy over days, and J* of each day. */

export interface Played {
  /** J of each day. */
  j: number[];
  violations: number;
}

/** J of each day and the violations, the policy playing `days` in order on `env`. */
export async function playAll(env: HomeEnv, policy: Policy, days: readonly Day[]): Promise<Played> {
  const j: number[] = [];
  let violations = 0;
  for (const day of days) {
    const { summary } = await playDay(env, policy, day);
    j.push(summary.score);
    violations += summary.violations;
  }
  return { j, violations };
}

/** J* of each day (solveDay, at most `timeLimitSec` each when given) and the days HiGHS did not prove optimal. */
export async function optimum(s: Scenario, days: readonly Day[], timeLimitSec?: number): Promise<{ jStar: number[]; unprovenDays: number[] }> {
  const jStar: number[] = [];
  const unprovenDays: number[] = [];
  for (const [d, day] of days.entries()) {
    const r = await solveDay(s, day, timeLimitSec === undefined ? {} : { timeLimitSec });
    jStar.push(r.score);
    if (r.status !== 'optimal') unprovenDays.push(d);
  }
  return { jStar, unprovenDays };
}
