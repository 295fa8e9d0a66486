import { SLOTS, type Day, type Policy, type Scenario, type StepInfo } from '../env/index.js';
import type { SolveOptions } from './lp.js';
import { solveDay, type MilpResult } from './milp.js';
import type { MilpSchedule } from './milp-model.js';

/** Replaying a MILP schedule in the environment: its actions, and the MILP as a policy. */

/** The env actions of a schedule: actions[t] has one entry per component. */
export function scheduleActions(s: Scenario, schedule: MilpSchedule): Int32Array[] {
  const nComp = s.appliances.length + (s.ev ? 1 : 0);
  const actions = Array.from({ length: SLOTS }, () => new Int32Array(nComp));
  schedule.runs.forEach((slots, i) => slots.forEach((t) => (actions[t][i] = 1)));
  if (s.ev) for (let t = 0; t < SLOTS; t++) actions[t][s.appliances.length] = schedule.evAction[t];
  return actions;
}

/**
 * The MILP as a policy (perfect foresight): at reset it solves the whole day, then plays the
 * schedule. `last` holds the solve of the current day; a time-limited solve is played but its
 * status says so.
 */
export function milpPolicy(s: Scenario, opts: SolveOptions = {}): Policy & { last: MilpResult | null } {
  let actions: Int32Array[] = [];
  const policy = {
    name: 'milp',
    foresight: true,
    last: null as MilpResult | null,
    async reset(_info: StepInfo, day?: Day) {
      if (!day) throw new Error('the milp policy needs the whole day: play it with playDay() (foresight)');
      policy.last = await solveDay(s, day, opts);
      actions = scheduleActions(s, policy.last.schedule);
    },
    act(_obs: Float32Array, info: StepInfo) {
      if (!policy.last) throw new Error('milp policy: act() before reset()');
      return actions[info.slot];
    },
  };
  return policy;
}
