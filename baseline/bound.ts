import { daySeed, Rng, SLOTS, tripDraw, withTrip, type Day, type Scenario } from '../env/index.js';
import { LinearModel, solve, type SolveStatus } from './lp.js';
import { buildDayModel } from './milp-model.js';

/**
 * The non-anticipative bound (docs/milp.md, "The non-anticipative bound"): a lower bound on the
 * expected J of any policy that does not see the trip before the car is back.
 *
 * The relaxation: the policy is told everything of the day except the trip (the requests and the PV
 * of the whole day, which no real policy knows), and the trip (its return slot and its energy) is
 * revealed when the car is back. Information arrives only then, so the stages are the return slots:
 * K trips are drawn from the habits given the known departure, each makes one copy of the day's
 * MILP, and every decision of slot t (each appliance's and the EV's) is one column shared by all the
 * copies whose car is not back by t: copies i and j share the slots t < min(arrival_i, arrival_j).
 * After its return a copy is on its own (the return also reveals the energy). The objective is the
 * mean over the copies of their J, each with its own q and RESCoin peak reference (withTrip).
 */

/** Raised whenever a change here changes the bound of some day: evaluation's cache keys on it (evaluation/bound-cache.ts). */
export const BOUND_VERSION = 3;

export interface Trip {
  /** First slot back. */
  arrival: number;
  /** Energy the trip takes out of the battery, kWh (withTrip caps it at target − socMin). */
  tripKwh: number;
}

export interface BoundOptions {
  /** Trips drawn from the habits (K, default 8). */
  samples?: number;
  /** Seed of the draws, mixed with the day's seed (default 1). */
  seed?: number;
  /** Time limit of the solve, s (default 60); an unproven solve gives HiGHS's dual bound. */
  timeLimitSec?: number;
  /** Relative MIP gap at which the solve stops (default 1e-6); the bound is the dual bound either way. */
  mipRelGap?: number;
  /** The trips themselves instead of a draw (tests: all equal to the day's own trip gives J*). */
  trips?: Trip[];
}

export interface BoundResult {
  /**
   * The bound, €, with the day's own trip as control variate: J*(day) + sampleBound − mean_k J*_k
   * (J* of the day by its dual bound, J*_k by the best schedule found, so that any solve short of a
   * proof only lowers it). The same expectation as sampleBound, without most of its variance.
   */
  bound: number;
  /** The proven lower bound of the sample-average program over the K trips (its dual bound). */
  sampleBound: number;
  /** sampleBound − mean_k J*_k: what not knowing the trip costs at best, on the trips drawn (≥ 0 up to the solver's gap); null when a J*_k found no schedule in time (bound = sampleBound then). */
  tripInformationEur: number | null;
  /** 'optimal': the program was solved to proof; 'time-limit': the bound is HiGHS's dual bound then. */
  status: SolveStatus;
  /** Trips in the program (0 on a day without a trip). */
  samples: number;
  /** Whether the trips are a sample of the habits (false on a day without a trip: nothing is unknown). */
  sampled: boolean;
  solveMs: number;
  mipGap: number;
  /** The trips of the program, in order. */
  trips: Trip[];
}

/** K trips given the day's departure, drawn by drawEv's own rule (env/day.ts tripDraw: energy capped at target − socMin). */
export function drawTrips(s: Scenario, day: Day, samples: number, seed = 1): Trip[] {
  const d = day.ev;
  const ev = s.ev;
  if (!d?.trip || !ev) throw new Error(`drawTrips: day ${day.seed} has no trip`);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`drawTrips: samples must be a positive integer, got ${samples}`);
  const rng = new Rng(daySeed(day.seed, seed));
  return Array.from({ length: samples }, () => {
    const zArrival = rng.normal();
    return tripDraw(ev, d.departure, zArrival, rng.normal(), day.weekend);
  });
}

/**
 * The slot whose decision a column is, or null when it is no decision: an appliance's start or run
 * binary (`…_start_t`, `…_run_t`, `…_run_t_k`: milp-appliances.ts) or the EV's charge, discharge or
 * mode at t (milp-ev.ts). Every other column follows from these and from the copy's own data.
 */
export function decisionSlot(name: string): number | null {
  const m = /^ev_(?:charge|discharge|mode)_(\d+)$/.exec(name) ?? /_(?:start|run)_(\d+)(?:_\d+)?$/.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * The multi-stage program over the days `days` (one per trip; a day without a trip is one copy
 * whose car never leaves). Rows named sym_… (identical requests ordered by their run slots,
 * milp-appliances.ts) are left out: relabelling two appliances in one copy only would break the
 * sharing, so in the tree they could cut off every optimum. The EV's ordering rows (ev_sym_…) stay:
 * they swap slots at which every copy sharing them has the same price, load and PV.
 */
export function boundModel(s: Scenario, days: Day[]): LinearModel {
  const big = new LinearModel();
  const K = days.length;
  const shared = new Map<string, number>();
  const seen = new Set<string>();
  days.forEach((day, k) => {
    const { model } = buildDayModel(s, day);
    const back = day.ev?.trip ? day.ev.arrival : SLOTS;
    const at = model.cols.map((c) => {
      const t = c.integer ? decisionSlot(c.name) : null;
      if (t === null || t >= back) return big.addCol(`s${k}_${c.name}`, c.lb, c.ub, c.cost / K, c.integer);
      const j = shared.get(c.name);
      if (j === undefined) {
        const col = big.addCol(`n_${c.name}`, c.lb, c.ub, c.cost / K, c.integer);
        shared.set(c.name, col);
        return col;
      }
      const mine = big.cols[j];
      if (mine.lb !== c.lb || mine.ub !== c.ub) throw new Error(`boundModel: decision ${c.name} has bounds [${c.lb}, ${c.ub}] in copy ${k} but [${mine.lb}, ${mine.ub}] in another`);
      mine.cost += c.cost / K;
      return j;
    });
    for (const r of model.rows) {
      if (r.name.startsWith('sym_')) continue;
      const cols = r.cols.map((c) => at[c]);
      // A row on shared decisions only (a request's "runs once") is the same row in every copy.
      const key = `${r.name}|${r.lb}|${r.ub}|${cols.join(',')}|${r.vals.join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      big.addRow(
        `s${k}_${r.name}`,
        cols.map((c, i) => [c, r.vals[i]] as [number, number]),
        r.lb,
        r.ub,
      );
    }
    big.offset += model.offset / K;
  });
  return big;
}

/**
 * The non-anticipative bound of one day (see the file's comment). On a day without a trip nothing
 * is unknown to the relaxation, and the bound is J* itself. On a trip day it is the optimum of the
 * sample-average program over K drawn trips, or HiGHS's dual bound when the time limit stops the
 * solve first, so it never exceeds that program's optimum.
 *
 * Which bound this is: the program's optimum is, for the K trips drawn, at most the mean J that any
 * non-anticipative policy gets on them (each policy is one feasible point of the tree). Its
 * expectation over the draw is therefore at most the policy's expected J (E[min] ≤ min E): a bound
 * in expectation, biased low (more samples raise it toward the true bound), not a bound on the J of
 * the day's own trip. Averaged over many days it is compared with mean J.
 */
export async function boundDay(s: Scenario, day: Day, opts: BoundOptions = {}): Promise<BoundResult> {
  const trip = day.ev?.trip === true;
  const trips = trip ? (opts.trips ?? drawTrips(s, day, opts.samples ?? 8, opts.seed ?? 1)) : [];
  if (trip && trips.length === 0) throw new Error('boundDay: trips must hold at least one trip');
  const days = trip ? trips.map((x) => withTrip(s, day, x.arrival, x.tripKwh)) : [day];
  const model = boundModel(s, days);
  const res = await solve(model, { timeLimitSec: opts.timeLimitSec ?? 60, mipRelGap: opts.mipRelGap ?? 1e-6 });
  if (res.status === 'infeasible' || res.status === 'error') throw new Error(`boundDay: day ${day.seed}: HiGHS says ${res.detail}`);
  const sampleBound = Number.isFinite(res.dualBound) ? res.dualBound : res.status === 'optimal' ? res.objective : -Infinity;
  const out = { status: res.status, samples: trips.length, sampled: trip, solveMs: res.solveMs, mipGap: res.mipGap, trips };
  if (!trip) return { ...out, bound: sampleBound, sampleBound, tripInformationEur: 0 };
  // The sample's trips are not the day's: on 30 held-out days their J* differ by 17 points of the
  // asap gap from the days' own, almost all of the raw bound's distance to J*. Subtracting each
  // trip's own optimum leaves only what knowing the trip is worth.
  const limit = { timeLimitSec: opts.timeLimitSec ?? 60 };
  const own = await solve(buildDayModel(s, day).model, limit);
  let high = 0;
  for (const d of days) {
    const r = await solve(buildDayModel(s, d).model, limit);
    if (!r.hasSolution) return { ...out, bound: sampleBound, sampleBound, tripInformationEur: null };
    high += r.objective / days.length;
  }
  const ownLow = Number.isFinite(own.dualBound) ? own.dualBound : own.objective;
  return { ...out, bound: ownLow + sampleBound - high, sampleBound, tripInformationEur: sampleBound - high };
}
