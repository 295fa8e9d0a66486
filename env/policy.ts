import type { Day } from './day.js';
import type { DayLog, DaySummary, HomeEnv, StepInfo } from './home.js';

/**
 * One interface for every policy: rule, learned or the MILP (DESIGN.md). `reset` sees what the day
 * reveals at its start; a policy with `foresight: true` (the MILP) also gets the whole day.
 */
export interface Policy {
  readonly name: string;
  readonly foresight?: boolean;
  reset?(info: StepInfo, day?: Day): void | Promise<void>;
  act(observation: Float32Array, info: StepInfo): ArrayLike<number>;
  /**
   * Told, after act() at a slot, the action the home actually played there when it was not this
   * policy's (a teacher labelling a learner's states, DAgger): a stateful policy plans from it.
   */
  played?(action: ArrayLike<number>): void;
}

export interface PlayedDay {
  summary: DaySummary;
  log: DayLog;
  return: number;
}

/** Play one whole day (drawn from `seed`, or the given `day`) with a policy. */
export async function playDay(env: HomeEnv, policy: Policy, dayOrSeed: number | Day): Promise<PlayedDay> {
  let { observation, info } = typeof dayOrSeed === 'number' ? env.reset({ seed: dayOrSeed }) : env.reset({ options: { day: dayOrSeed } });
  const day = env.trajectory().day;
  await policy.reset?.(info, policy.foresight ? day : undefined);
  let ret = 0;
  for (;;) {
    const r = env.step(policy.act(observation, info));
    ret += r.reward;
    observation = r.observation;
    info = r.info;
    if (r.terminated || r.truncated) return { summary: info.day!, log: env.trajectory(), return: ret };
  }
}
