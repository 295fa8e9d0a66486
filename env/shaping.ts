import type { Scenario } from './scenario.js';
import { evRate, type HomeView } from './core.js';

/**
 * # Peak shaping: a potential for the EV's unavoidable peak (Ng, Harada & Russell 1999)
 *
 * An EV left idle costs nothing in the slot it idles: the cost comes many slots later, when its
 * floor forces the fast level and the running peak jumps. One-step targets carry that back one
 * slot per update, so agents learn "idle until forced" first and unlearn it slowly. The potential
 *
 *   Φ(s) = −k · max(0, ⌈P_need / step⌉ · step − peak),   P_need = needed / (η_c · Δt · slots to due)
 *
 * (P_need / step is the observation's ev.rate, `evRate`)
 *
 * is the peak cost already committed in s: the lowest charge level that still meets the EV's next
 * requirement if spread evenly, minus the running peak, priced at k = λ + v·r_peak €/kW (the peak
 * term's slope below the reference peak). The shaped reward r + γ·Φ(s') − Φ(s), with Φ = 0 after
 * the last slot, charges that cost in the slot whose idling makes the fast level unavoidable.
 * Being potential-based, it leaves every policy's ranking, and so the optimum, unchanged; training
 * only uses it, every score and metric stays the unshaped J.
 */
export function peakPotential(s: Scenario, v: HomeView): number {
  if (!v.ev || !s.ev) return 0;
  const level = Math.ceil(evRate(v.ev, s.ev, v.slot) - 1e-9) * s.ev.chargeStepKw;
  const k = s.objective.peakEurPerKw + s.rescoin.valueEur * s.rescoin.perKwPeakReduction;
  return -k * Math.max(0, level - v.peakKw);
}

/** The shaping term γ·Φ(s') − Φ(s), with Φ(s') = 0 when the day ended. */
export function shapingTerm(gamma: number, phiBefore: number, phiAfter: number, done: boolean): number {
  return (done ? 0 : gamma * phiAfter) - phiBefore;
}
