import { LIMIT_TOL, SLOTS } from '../env/index.js';

/**
 * # The operator's feeder caps: how the headroom of a slot is shared among the homes
 *
 * The env (community/core.ts) works out each home's forced net F_i and flexibility flex_i after
 * every home has read slot t; when Σ F ≤ feederKw it asks the community's CapPolicy for each home's
 * net-import cap. The policy is the operator's choice, not physics: the feeder only asks that the
 * homes' nets sum to at most feederKw. The contract of any policy (checked by the core, which throws
 * naming the slot and the home, to LIMIT_TOL): cap_i ≥ F_i (a home can always play its forced
 * loads) and Σ cap_i ≤ feederKw. When Σ F > feederKw there is no headroom to share: the core sets
 * cap_i = F_i itself and reports the excess, without calling the policy.
 *
 * A policy must depend only on its arguments (and on data fixed when it was made): the vector form
 * calls one policy for every copy of the community.
 */
export type CapPolicy = (slot: number, forcedNetKw: Float64Array, flexKw: Float64Array, feederKw: number, out: Float64Array) => void;

/**
 * The default operator (a community without a coordinator): home i gets F_i + H·flex_i/Σ flex,
 * H = feederKw − Σ F (equal shares when no home has flex). The caps sum to the feeder.
 */
export const flexShareCaps: CapPolicy = (_slot, forcedNetKw, flexKw, feederKw, out) => {
  const n = forcedNetKw.length;
  let sumF = 0;
  let sumFlex = 0;
  for (let i = 0; i < n; i++) {
    sumF += forcedNetKw[i];
    sumFlex += flexKw[i];
  }
  const H = feederKw - sumF;
  for (let i = 0; i < n; i++) {
    const share = H <= 0 ? 0 : sumFlex > LIMIT_TOL ? (H * flexKw[i]) / sumFlex : H / n;
    out[i] = forcedNetKw[i] + share;
  }
};

/**
 * A coordinator that knows a plan (e.g. the community MILP's schedule): home i's cap at slot t is
 * its planned net p_i,t, raised to F_i where the plan is below it (a planned discharge: F counts no
 * discharge), plus its flexibility share of what is left, feederKw − Σ max(F, p). If the raised plan
 * does not fit (only a planned discharge can do that, or a plan that breaks the feeder), each home
 * keeps F_i and the part of its planned excess over F that fits, in proportion. So a home that plays
 * its planned action is never masked as long as Σ_i max(F_i, p_i,t) ≤ feederKw.
 *
 * `plannedNetKw[i][t]` = planned import − export of home i at slot t, kW.
 */
export function planCaps(plannedNetKw: readonly ArrayLike<number>[]): CapPolicy {
  for (const [i, p] of plannedNetKw.entries()) if (p.length !== SLOTS) throw new Error(`planCaps: home ${i}'s plan has ${p.length} slots, expected ${SLOTS}`);
  return (slot, forcedNetKw, flexKw, feederKw, out) => {
    const n = forcedNetKw.length;
    if (plannedNetKw.length !== n) throw new Error(`planCaps: a plan for ${plannedNetKw.length} homes, the community has ${n}`);
    let sumB = 0;
    let sumF = 0;
    let sumFlex = 0;
    for (let i = 0; i < n; i++) {
      const b = Math.max(forcedNetKw[i], plannedNetKw[i][slot]);
      out[i] = b;
      sumB += b;
      sumF += forcedNetKw[i];
      sumFlex += flexKw[i];
    }
    const left = feederKw - sumB;
    if (left >= 0) {
      for (let i = 0; i < n; i++) out[i] += sumFlex > LIMIT_TOL ? (left * flexKw[i]) / sumFlex : left / n;
      return;
    }
    // Σ F ≤ feederKw here (the core calls a policy only then), so the scale lies in [0, 1).
    const scale = (feederKw - sumF) / (sumB - sumF);
    for (let i = 0; i < n; i++) out[i] = forcedNetKw[i] + (out[i] - forcedNetKw[i]) * scale;
  };
}

/** The contract of a policy's caps (see CapPolicy), or an error naming the slot and the home. */
export function checkCaps(slot: number, forcedNetKw: Float64Array, feederKw: number, caps: Float64Array, ids: readonly string[]): void {
  let sum = 0;
  for (let i = 0; i < caps.length; i++) {
    const cap = caps[i];
    if (!(cap >= forcedNetKw[i] - LIMIT_TOL))
      throw new Error(`feeder caps at slot ${slot}: home ${i} ("${ids[i]}") got a cap of ${cap} kW, below its forced net ${forcedNetKw[i]} kW; a CapPolicy must give every home at least its forced net`);
    sum += cap;
  }
  if (!(sum <= feederKw + LIMIT_TOL)) {
    let top = 0;
    for (let i = 1; i < caps.length; i++) if (caps[i] - forcedNetKw[i] > caps[top] - forcedNetKw[top]) top = i;
    throw new Error(`feeder caps at slot ${slot}: the caps sum to ${sum} kW, over the ${feederKw} kW feeder (home ${top} ("${ids[top]}") got the most over its forced net: ${caps[top]} kW against ${forcedNetKw[top]} kW); a CapPolicy must keep Σ caps ≤ feederKw`);
  }
}
