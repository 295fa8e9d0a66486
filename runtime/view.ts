/**
 * What a policy may see of a home at one slot (the controller's state, read-only), and the limit
 * rules every part of the home shares. The units are DESIGN.md's: kW, kWh, 96 slots of Δt = 0.25 h.
 */

/** A day is 96 slots of 15 minutes; slots are 0-based. */
export const SLOTS = 96;
/** Length of a slot in hours: power (kW) times DT is energy (kWh). */
export const DT = 0.25;

/**
 * Tolerance of every limit check (kW against the contract, kWh against the SoC floor and capacity):
 * 1 W / 1 Wh, far below anything a meter resolves, and above a MILP solver's feasibility noise.
 */
export const LIMIT_TOL = 1e-6;

/**
 * Whether EV grid-side power `kw` fits with `fixedNetKw`, the net load of everything else: a charge
 * keeps the import under the contract, a V2H discharge sends nothing into the grid.
 */
export function evPowerFits(kw: number, fixedNetKw: number, contractKw: number): boolean {
  return kw > 0 ? fixedNetKw + kw <= contractKw + LIMIT_TOL : kw < 0 ? fixedNetKw + kw >= -LIMIT_TOL : true;
}

/**
 * The EV power a home must keep free under its limit: the lowest allowed EV level ≥ 0 (a floor may
 * force a charge), 0 when idle is allowed or there is no EV. An optional run must fit beside it,
 * or the forced charge would find no room (capNet, the fallback, env/rules.ts fitUnderLimit).
 */
export function evReserveKw(view: HomeView): number {
  const ev = view.ev;
  if (!ev) return 0;
  const off = view.maskOffsets[view.powerKw.length];
  let lo = Infinity;
  for (let k = 0; k < ev.levelsKw.length; k++) if (view.mask[off + k] === 1 && ev.levelsKw[k] >= 0 && ev.levelsKw[k] < lo) lo = ev.levelsKw[k];
  return lo === Infinity ? 0 : lo;
}

/** What a policy may see of the current slot: the revealed part of the day only. A live view. */
export interface HomeView {
  readonly slot: number;
  readonly contractKw: number;
  /**
   * The net-import limit of this slot: the contract, or less while an operator caps the home
   * (a feeder's share: `HomeController.capNet`). Every limit check of a level or an action uses it.
   */
  readonly limitKw: number;
  /** Per component: allowed values, concatenated (component c at maskOffsets[c]). */
  readonly mask: Uint8Array;
  readonly maskOffsets: Int32Array;
  readonly nvec: Int32Array;
  /** Power (kW) appliance i draws if it runs this slot; 0 when it has nothing to do. */
  readonly powerKw: Float64Array;
  /** Last slot of appliance i's visible request, or -1 (no request seen, or done). */
  readonly deadline: Int32Array;
  /** Slots of the cycle still to run. */
  readonly remaining: Int32Array;
  /** 1 when a non-interruptible cycle is under way. */
  readonly started: Uint8Array;
  readonly baseKw: number;
  readonly pvKw: number;
  /** Forced appliance load this slot (running cycles, deadlines), kW. */
  readonly forcedKw: number;
  readonly peakKw: number;
  readonly ev: EvView | null;
}

export interface EvView {
  readonly home: boolean;
  readonly socKwh: number;
  readonly capacityKwh: number;
  /** Grid-side power of each EV action index: 0, +k·step (charge), −m·step (discharge), kW. */
  readonly levelsKw: Float64Array;
  /** Energy still to add for the next requirement (target at departure, else the SoC of 00:00), kWh. */
  readonly neededKwh: number;
  /** Slot by whose start the requirement is due (departure, or 96 for the end of the day). */
  readonly dueSlot: number;
  /** SoC at 00:00, kWh: what the EV must hold again at the day's end. */
  readonly startKwh: number;
}

/** ev.rate's cap, in charge steps (its Box bound). */
export const EV_RATE_MAX = 4;

/**
 * The mean grid power the EV needs until its requirement is due, in charge steps, at most
 * EV_RATE_MAX: above 1 the slow level cannot make it alone. The network could divide ev.needed by
 * ev.due itself, but an MLP approximates a ratio poorly, and this ratio decides the EV's choice.
 */
export function evRate(
  e: Pick<EvView, 'neededKwh' | 'dueSlot'>,
  ev: { chargeEfficiency: number; chargeStepKw: number },
  slot: number,
  cap = EV_RATE_MAX,
): number {
  if (e.neededKwh <= 0) return 0;
  const kw = e.neededKwh / (ev.chargeEfficiency * DT * Math.max(1, e.dueSlot - slot));
  return Math.min(cap, kw / ev.chargeStepKw);
}

/** Mean of a[t+1 … t+n] (fewer near the day's end, 0 after it): the PV forecast readings. */
export function meanAhead(a: ArrayLike<number>, t: number, n: number): number {
  let sum = 0;
  let c = 0;
  for (let j = t + 1; j <= t + n && j < SLOTS; j++, c++) sum += a[j];
  return c > 0 ? sum / c : 0;
}
