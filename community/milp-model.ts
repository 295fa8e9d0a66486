import { DT, SLOTS, type Day, type Scenario } from '../env/index.js';
import { LinearModel } from '../baseline/lp.js';
import { buildDayModel, type MilpSchedule } from '../baseline/milp-model.js';
import type { Community } from './community.js';

/**
 * The community day's MILP, built from each home's own day model (baseline/milp-model.ts) copied in
 * under a column-name prefix, plus the coupling. The single-home model is not touched, so its LP
 * export and goldens stay byte-identical; what changes in a copy:
 *
 * - **Energy cost.** Netting markets (bill-sharing, mid-market, sdr) only redistribute: the
 *   community pays the grid λb_t·Gimp_t − λs·Gexp_t with Gimp_t − Gexp_t = Σ_i net_i,t
 *   (community-api.md), so a home's import and export lose their price and keep only their
 *   RESCoin part. Under `none` each home pays λb·imp − λs·exp itself.
 * - **EV symmetry rows** (`ev_sym_*`) go: they swap one home's charge between two slots that look
 *   alike to that home, but the other homes' flows at those slots differ, so the swap moves the
 *   feeder flow and the community peak and no longer keeps an optimum.
 * - **Import and export at once.** A home's model has no binary against doing both: its prices made
 *   that a loss. Without its price, exporting keeps only the RESCoin loss v·(r_self − r_exp) per kWh
 *   (and more import can only raise its own peak). When that is > 0, no optimum does both; when it
 *   is 0, decoding the net (as the env does) changes no term of J; when it is < 0 (a scenario that
 *   pays more RSC for export than for self-use) a binary per slot forbids it.
 *
 * The rest of a home (its contract, its own λ_i·peak_i, F.O.2, RESCoin, the EV shortfall, the
 * appliance symmetry between identical requests of one home) is the home's own and stays.
 */

/** The markets whose clearing only redistributes the grid bill of the community's net flow. */
export const isNetting = (c: Community) => c.market !== 'none';

/** One home copied into a larger model. */
export interface HomeBlock {
  /** Index of the home's first column in the larger model (its columns are contiguous). */
  offset: number;
  nCols: number;
  /** Columns of import_t and export_t in the larger model. */
  imp: number[];
  exp: number[];
  /** The RESCoin part of export_t's cost (€ per kW), without any energy price. */
  expRscCost: number;
  /** The schedule from the larger model's values. */
  decode: (values: Float64Array) => MilpSchedule;
}

/** Home i's prefix of column and row names. */
export const homePrefix = (i: number) => `h${i}_`;

/**
 * Copy a home's own day model into `m` under `prefix`, without the energy price of its import and
 * export (priceHome sets it), without the EV symmetry rows, its constant added to m's, and the
 * binary against importing and exporting in one slot where export earns more RESCoin than self-use.
 */
export function addHome(m: LinearModel, s: Scenario, day: Day, prefix: string): HomeBlock {
  const { model: own, decode } = buildDayModel(s, day);
  const offset = m.cols.length;
  const imp: number[] = new Array(SLOTS);
  const exp: number[] = new Array(SLOTS);
  // What the home's model charges per kW of export beyond its energy price: the RESCoin part.
  const expRscCost = (s.rescoin.valueEur * (s.rescoin.perKwhSelfConsumed - s.rescoin.perKwhExported)) * DT;
  own.cols.forEach((col, j) => {
    const k = m.addCol(prefix + col.name, col.lb, col.ub, col.cost, col.integer);
    const hit = /^(import|export)_(\d+)$/.exec(col.name);
    if (!hit) return;
    const t = Number(hit[2]);
    if (hit[1] === 'import') {
      imp[t] = k;
      m.cols[k].cost = 0;
    } else {
      exp[t] = k;
      m.cols[k].cost = expRscCost;
    }
    if (k !== offset + j) throw new Error('addHome: columns must be contiguous');
  });
  for (const r of own.rows) {
    if (r.name.startsWith('ev_sym_')) continue;
    m.addRow(
      prefix + r.name,
      r.cols.map((c, k) => [c + offset, r.vals[k]]),
      r.lb,
      r.ub,
    );
  }
  m.offset += own.offset;
  if (expRscCost < 0) {
    for (let t = 0; t < SLOTS; t++) {
      const b = m.addCol(`${prefix}exporting_${t}`, 0, 1, 0, true);
      m.addRow(`${prefix}export_only_${t}`, [[exp[t], 1], [b, -day.pvKw[t]]], -Infinity, 0);
      m.addRow(`${prefix}import_only_${t}`, [[imp[t], 1], [b, s.grid.contractKw]], -Infinity, s.grid.contractKw);
    }
  }
  const nCols = own.cols.length;
  return { offset, nCols, imp, exp, expRscCost, decode: (values) => decode(values.subarray(offset, offset + nCols)) };
}

/** Give each home its energy price: none under a netting market, the grid's under `none`, plus `extra` € per kW of net. */
export function priceHome(m: LinearModel, c: Community, h: HomeBlock, extra?: ArrayLike<number>): void {
  const own = !isNetting(c);
  for (let t = 0; t < SLOTS; t++) {
    const y = extra ? extra[t] : 0;
    m.cols[h.imp[t]].cost = (own ? c.buyPriceKwh[t] * DT : 0) + y;
    m.cols[h.exp[t]].cost = h.expRscCost - (own ? c.sellPriceKwh * DT : 0) - y;
  }
}

export interface CommunityModel {
  model: LinearModel;
  homes: HomeBlock[];
  /** Per slot: the feeder flow G_t column (Σ net, ≤ feederKw). */
  feeder: number[];
  /** The feeder peak column P (null when the community has no peak price). */
  peak: number | null;
}

/**
 * The cooperative MILP of a community day: every home's own model, the feeder flow
 * G_t = Σ_i (imp_i,t − exp_i,t) ≤ feederKw, the community peak P ≥ G_t (P ≥ 0) at
 * peakEurPerKwDay, and the energy cost as the market makes it (see the module comment).
 */
export function buildCommunityModel(c: Community, days: readonly Day[]): CommunityModel {
  if (days.length !== c.homes.length) throw new Error(`buildCommunityModel: ${days.length} days for ${c.homes.length} homes`);
  const m = new LinearModel();
  const homes = c.homes.map((h, i) => addHome(m, h.scenario, days[i], homePrefix(i)));
  homes.forEach((h) => priceHome(m, c, h));
  const feeder: number[] = [];
  for (let t = 0; t < SLOTS; t++) {
    const g = m.addCol(`feeder_${t}`, -Infinity, c.feederKw);
    feeder.push(g);
    const terms: [number, number][] = [[g, 1]];
    for (const h of homes) terms.push([h.imp[t], -1], [h.exp[t], 1]);
    m.addRow(`feeder_def_${t}`, terms, 0, 0);
    if (isNetting(c)) {
      const gi = m.addCol(`grid_import_${t}`, 0, Infinity, c.buyPriceKwh[t] * DT);
      const ge = m.addCol(`grid_export_${t}`, 0, Infinity, -c.sellPriceKwh * DT);
      m.addRow(`grid_net_${t}`, [[gi, 1], [ge, -1], [g, -1]], 0, 0);
    }
  }
  let peak: number | null = null;
  if (c.peakEurPerKwDay > 0) {
    peak = m.addCol('feeder_peak', 0, Infinity, c.peakEurPerKwDay);
    for (let t = 0; t < SLOTS; t++) m.addRow(`feeder_peak_${t}`, [[peak, 1], [feeder[t], -1]], 0, Infinity);
  }
  return { model: m, homes, feeder, peak };
}
