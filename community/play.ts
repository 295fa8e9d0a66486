import { asapPolicy, cheapestPolicy, mpcPolicy, prechargePolicy } from '../baseline/index.js';
import { evPowerFits, fitUnderLimit, LIMIT_TOL, type Day, type HomeView, type Policy, type StepInfo } from '../env/index.js';
import { drawCommunityDay, type Community } from './community.js';
import type { CommunityEnv, CommunityInfo } from './env.js';
import type { CommunityDayLog, CommunityDaySummary } from './score.js';

/**
 * The rules of baseline/ in a community: one Policy per home, each acting on its home's own
 * observation (the single-home prefix) and HomeView, its action made to fit the home's feeder cap
 * (`fitCap`) so that a rule never causes a fallback under a cap.
 */

export type CommunityRule = 'asap' | 'cheapest' | 'precharge' | 'mpc';
export const COMMUNITY_RULES: readonly CommunityRule[] = Object.freeze(['asap', 'cheapest', 'precharge', 'mpc'] as const);

/** One policy per home (file order) for the rule `name`, each wrapped by `fitCap`. */
export function communityPolicies(c: Community, name: CommunityRule): Policy[] {
  const make = (i: number): Policy => {
    const s = c.homes[i].scenario;
    if (name === 'asap') return asapPolicy();
    if (name === 'cheapest') return cheapestPolicy(s);
    if (name === 'precharge') return prechargePolicy(s);
    if (name === 'mpc') return mpcPolicy(s);
    throw new Error(`communityPolicies: unknown rule "${String(name)}"; expected one of ${COMMUNITY_RULES.join(', ')}`);
  };
  return c.homes.map((_, i) => fitCap(make(i)));
}

/**
 * Make an action fit the home's limit (its feeder cap, HomeView.limitKw) as the controller's fallback
 * would, but before it: a run outside the mask waits (a forced one runs), optional runs that do not
 * fit together wait, the last ones first
 * (env/rules.ts fitUnderLimit), then an EV level outside the mask or over the limit becomes the
 * allowed level nearest to it in power that fits (the lower on a tie). Returns the number of
 * components changed.
 */
export function fitAction(view: HomeView, out: Int32Array): number {
  const n = view.powerKw.length;
  let changed = 0;
  let appKw = 0;
  for (let i = 0; i < n; i++) {
    // A plan made against the contract may start what the cap masks: it waits (or runs, if it must).
    if ((out[i] !== 0 && out[i] !== 1) || view.mask[2 * i + out[i]] === 0) {
      out[i] = view.mask[2 * i] === 1 ? 0 : 1;
      changed++;
    }
    if (out[i] === 1) appKw += view.powerKw[i];
  }
  const before = n > 0 ? countRuns(out, n) : 0;
  appKw -= fitUnderLimit(view, out, appKw);
  changed += before - countRuns(out, n);
  if (view.ev) {
    const ev = view.ev;
    const off = view.maskOffsets[n];
    const fixed = view.baseKw + appKw - view.pvKw;
    const k = out[n];
    const ok = (j: number) => view.mask[off + j] === 1 && evPowerFits(ev.levelsKw[j], fixed, view.limitKw);
    if (!(Number.isInteger(k) && k >= 0 && k < ev.levelsKw.length && ok(k))) {
      const want = Number.isInteger(k) && k >= 0 && k < ev.levelsKw.length ? ev.levelsKw[k] : 0;
      let best = -1;
      for (let j = 0; j < ev.levelsKw.length; j++) {
        if (!ok(j)) continue;
        const d = Math.abs(ev.levelsKw[j] - want);
        const bd = best < 0 ? Infinity : Math.abs(ev.levelsKw[best] - want);
        if (d < bd - LIMIT_TOL || (Math.abs(d - bd) <= LIMIT_TOL && ev.levelsKw[j] < ev.levelsKw[best])) best = j;
      }
      // None fits (a forced charge over the cap): leave it to the controller's fallback.
      if (best >= 0 && best !== k) {
        out[n] = best;
        changed++;
      }
    }
  }
  return changed;
}

function countRuns(out: Int32Array, n: number): number {
  let r = 0;
  for (let i = 0; i < n; i++) r += out[i] === 1 ? 1 : 0;
  return r;
}

/** `p` with its actions made to fit the home's cap (`fitAction`); a stateful policy is told when its action was changed. */
export function fitCap(p: Policy): Policy {
  let out = new Int32Array(0);
  return {
    name: p.name,
    foresight: p.foresight,
    reset: p.reset ? (info, day) => p.reset!(info, day) : undefined,
    act(obs, info) {
      const a = p.act(obs, info);
      if (out.length !== a.length) out = new Int32Array(a.length);
      for (let c = 0; c < a.length; c++) out[c] = a[c];
      if (fitAction(info.home, out) > 0) p.played?.(out);
      return out;
    },
    played: p.played ? (a) => p.played!(a) : undefined,
  };
}

/** What a home's policy sees: the StepInfo of its home (the single-home fields of CommunityInfo). */
function homeInfo(info: CommunityInfo): StepInfo {
  return { slot: info.slot, actionMask: info.actionMask, violations: info.violations, home: info.home };
}

/**
 * Play one community day (drawn from `seed`, or the given days) with one policy per home (file
 * order). Each policy acts on its home's observation prefix of the single-home size and its
 * StepInfo; `reset(info, day)` per home, with the home's day for a policy with foresight.
 */
export async function playCommunityDay(env: CommunityEnv, policies: readonly Policy[], seedOrDays: number | Day[]): Promise<{ summary: CommunityDaySummary; log: CommunityDayLog; operatorReturn: number }> {
  const ids = env.possibleAgents;
  if (policies.length !== ids.length) throw new Error(`playCommunityDay: ${policies.length} policies for ${ids.length} homes; expected one per home (communityPolicies)`);
  const days = typeof seedOrDays === 'number' ? drawCommunityDay(env.community, seedOrDays) : seedOrDays;
  let { observations, infos } = env.reset({ seed: typeof seedOrDays === 'number' ? seedOrDays : undefined, options: { days } });
  const sizes = ids.map((_, i) => env.core.homeObsSize[i]);
  for (let i = 0; i < ids.length; i++) await policies[i].reset?.(homeInfo(infos[ids[i]]), policies[i].foresight ? days[i] : undefined);
  let operatorReturn = 0;
  const actions: Record<string, ArrayLike<number>> = {};
  for (;;) {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      actions[id] = policies[i].act(observations[id].subarray(0, sizes[i]), homeInfo(infos[id]));
    }
    const r = env.step(actions);
    operatorReturn += r.operatorReward;
    observations = r.observations;
    infos = r.infos;
    if (env.agents.length === 0) {
      const log = env.trajectory();
      return { summary: log.summary!, log, operatorReturn };
    }
  }
}
