import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult, DayKind, Samples } from './check.js';

/**
 * Overlay plots of the check: for each distribution, the data's and the model's share per bin
 * (1 slot, or 1 kWh) as step lines, weekday and weekend side by side. Files: `<item>-<quantity>.svg`
 * and `.png` in the check's folder.
 */

type Dist = Record<DayKind, number[]>;

function distributions(s: Samples): Map<string, Dist> {
  const m = new Map<string, Dist>();
  for (const [id, a] of s.appliances) m.set(`${id}-release`, a.release);
  for (const q of ['departure', 'arrival', 'tripKwh'] as const) m.set(`ev-${q}`, s.ev[q]);
  return m;
}

/** Share of the values in each 1-wide bin, as rows for the plot. */
function binned(values: readonly number[], source: string, day: DayKind): { x: number; share: number; source: string; day: string }[] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(Math.floor(v), (counts.get(Math.floor(v)) ?? 0) + 1);
  const keys = [...counts.keys()].sort((a, b) => a - b);
  if (keys.length === 0) return [];
  const rows = [];
  // Every bin from the first to one past the last, so that a step line drops to 0 between modes.
  for (let x = keys[0]; x <= keys.at(-1)! + 1; x++) rows.push({ x, share: (counts.get(x) ?? 0) / values.length, source, day });
  return rows;
}

export function overlaySpec(name: string, data: Dist, model: Dist, kwh: boolean): object {
  const values = (['weekday', 'weekend'] as const).flatMap((d) => [...binned(data[d], 'data', d), ...binned(model[d], 'model', d)]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${name}: data vs model`,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
    width: 420,
    height: 220,
    encoding: {
      x: { field: 'x', type: 'quantitative', title: kwh ? 'trip energy (kWh, 1-kWh bins)' : 'slot (15 min, 0 = 00:00)', scale: { zero: false } },
      y: { field: 'share', type: 'quantitative', title: 'share of the day type' },
      color: { field: 'source', type: 'nominal', scale: { domain: ['data', 'model'], range: ['#222222', '#e15759'] } },
      column: { field: 'day', type: 'nominal', title: null },
    },
  };
}

/** Writes the plots; returns the paths. */
export async function writeCheckPlots(r: CheckResult, dir: string): Promise<string[]> {
  const { vegaLiteToSvg, writePlot } = await import('../training/plot.js');
  mkdirSync(dir, { recursive: true });
  const model = distributions(r.samples.model);
  const written: string[] = [];
  for (const [name, data] of distributions(r.samples.data)) {
    if (data.weekday.length + data.weekend.length === 0) continue;
    const svg = await vegaLiteToSvg(overlaySpec(name, data, model.get(name) ?? { weekday: [], weekend: [] }, name.endsWith('tripKwh')));
    for (const ext of ['svg', 'png']) {
      const path = join(dir, `${name}.${ext}`);
      await writePlot(svg, path);
      written.push(path);
    }
  }
  return written;
}
