import type { MeterDay } from './observations.js';

/**
 * Meter days → the companion CSV (`<out>.days.csv`) that the fitted scenario's `baseLoad.profile`
 * and `pv.profile` read, and the contract that fits the fitted home.
 */

export const COMPANION_HEADER = 'date,hour,day_type,load_kw,pv_kw_per_kwp';

const num = (x: number) => String(Math.round(x * 1e6) / 1e6);

/** 24 rows a day from row 0 = 00:00–01:00 (the scenario's profile rule), PV per kWp of `pvKwp`. */
export function companionCsv(days: readonly MeterDay[], pvKwp: number): string {
  const lines = [COMPANION_HEADER];
  for (const d of days)
    for (let h = 0; h < 24; h++) {
      const pv = d.pvKw && pvKwp > 0 ? d.pvKw[h] / pvKwp : 0;
      lines.push(`${d.day.date},${h},${d.day.dayType},${num(d.loadKw[h])},${num(pv)}`);
    }
  return `${lines.join('\n')}\n`;
}

/** Contract sizes a home can order (kW): the Italian steps up to 6 kW, then common three-phase ones. */
export const CONTRACT_STEPS_KW = [3, 4.5, 6, 10, 15, 20] as const;

/**
 * The smallest contract of CONTRACT_STEPS_KW that holds the worst moment the model allows: the
 * highest base load, every appliance at its cycle peak, and one EV charge step on top (so the EV
 * can always charge at least its lowest level). Throws when even the largest does not.
 */
export function contractFor(maxBaseKw: number, appliancePeaksKw: readonly number[], evStepKw: number): number {
  const need = maxBaseKw + appliancePeaksKw.reduce((a, b) => a + b, 0) + evStepKw;
  const c = CONTRACT_STEPS_KW.find((k) => k >= need - 1e-9);
  if (c === undefined) throw new Error(`the home needs ${need.toFixed(3)} kW (highest base load ${maxBaseKw.toFixed(3)} kW + appliance peaks + one EV step); the largest contract considered is ${CONTRACT_STEPS_KW.at(-1)} kW`);
  return c;
}

/** The rule as `grid.source` states it. */
export const contractRule = (maxBaseKw: number, peaksKw: readonly number[], evStepKw: number, contractKw: number): string =>
  `Sized by rescoin habits (contractFor): the smallest of ${CONTRACT_STEPS_KW.join(', ')} kW that holds the highest base load (${maxBaseKw.toFixed(3)} kW) + every appliance at its cycle peak (${peaksKw.reduce((a, b) => a + b, 0).toFixed(3)} kW) + one EV charge step (${evStepKw} kW): ${contractKw} kW`;

export interface LoadFit {
  csv: string;
  maxBaseKw: number;
  maxPvKw: number;
  days: number;
  pvDays: number;
}

export function fitLoad(days: readonly MeterDay[], pvKwp: number): LoadFit {
  if (days.length === 0) throw new Error('no meter days to fit the base load from');
  return {
    csv: companionCsv(days, pvKwp),
    maxBaseKw: Math.max(...days.flatMap((d) => d.loadKw)),
    maxPvKw: Math.max(0, ...days.flatMap((d) => d.pvKw ?? [])),
    days: days.length,
    pvDays: days.filter((d) => d.pvKw !== null).length,
  };
}
