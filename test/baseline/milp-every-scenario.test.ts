import { describe, expect, it } from 'vitest';
import { daySeed, listScenarios, loadScenario, makeEnv, playDay } from '../../env/index.js';
import { asapPolicy, milpPolicy } from '../../baseline/index.js';

/**
 * The MILP replay on every shipped scenario (issue 14: the real-load homes too): the schedule
 * played in the env returns −J of the MILP, to 1e-6, with no violation. A time-limited solve is
 * replayed all the same: its incumbent is a schedule, and the identity holds for any schedule.
 */
describe('MILP replay on every scenario', () => {
  for (const id of listScenarios()) {
    it(`${id}: return = −J* on 2 days, and J* ≤ no management`, async () => {
      const s = loadScenario(id);
      const env = makeEnv(s);
      const milp = milpPolicy(s, { timeLimitSec: 10 });
      for (let d = 0; d < 2; d++) {
        const seed = daySeed(77, d);
        const played = await playDay(env, milp, seed);
        const r = milp.last!;
        expect(played.summary.violations).toBe(0);
        expect(Math.abs(played.return + r.score)).toBeLessThan(1e-6);
        const asap = (await playDay(env, asapPolicy(), seed)).summary.score;
        expect(r.score).toBeLessThanOrEqual(asap + 1e-9);
      }
    }, 120_000);
  }
});
