import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import type { DayLog, Scenario } from '../env/index.js';
import { SLOTS, SLOTS_PER_HOUR } from '../env/index.js';

const WIDTH = 900;
// tableau10 split in two: the stacked sources cycle through the first, PV and import get fixed colours.
const AREA_COLORS = ['#4e79a7', '#76b7b2', '#b07aa1', '#ff9da7', '#9c755f', '#e15759', '#edc948', '#17becf', '#bcbd22'];
const BASE_COLOR = '#bab0ac';
const EV_COLOR = '#59a14f';
const PV_COLOR = '#f28e2b';
const IMPORT_COLOR = '#222222';

/** Compile a Vega-Lite spec and render it headless (no DOM) to an SVG string. */
export async function vegaLiteToSvg(spec: object): Promise<string> {
  const { spec: vg } = compile(spec as TopLevelSpec);
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// x in hours; power is constant over a slot, so series are drawn as steps and need a closing point at 24:00.
const hourAxis = {
  title: 'time of day',
  values: Array.from({ length: 13 }, (_, k) => 2 * k),
  labelExpr: "format(datum.value, '02d') + ':00'",
  grid: true,
};
const hourScale = { domain: [0, 24], nice: false, zero: false };

/** One day as an SVG: consumption by source with PV and grid import (top), buy tariff (bottom). */
export async function dayPlotSvg(log: DayLog, scenario: Scenario, title: string): Promise<string> {
  return vegaLiteToSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    config: { font: 'sans-serif', view: { stroke: '#ccc' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
    ...dayPlotSpec(log, scenario, title),
  });
}

/** The day plot as a Vega-Lite view without top-level settings, so several can sit side by side. */
export function dayPlotSpec(log: DayLog, scenario: Scenario, title: string, width = WIDTH): Record<string, unknown> {
  const sources: { name: string; kw: (t: number) => number; color: string }[] = [
    { name: 'base load', kw: (t) => log.day.baseKw[t], color: BASE_COLOR },
    ...scenario.appliances.map((a, i) => ({
      name: a.name,
      kw: (t: number) => log.applianceKw[i * SLOTS + t],
      color: AREA_COLORS[i % AREA_COLORS.length],
    })),
  ];
  if (scenario.ev) sources.push({ name: scenario.ev.v2h ? 'EV (charge + / V2H −)' : 'EV charging', kw: (t) => log.evKw[t], color: EV_COLOR });
  const lines = [
    { name: 'PV production', kw: (t: number) => log.day.pvKw[t], color: PV_COLOR },
    { name: 'grid import', kw: (t: number) => log.importKw[t], color: IMPORT_COLOR },
  ];

  const at = (t: number) => Math.min(t, SLOTS - 1);
  const rows = (list: typeof sources, layer: string) =>
    list.flatMap((s, order) =>
      Array.from({ length: SLOTS + 1 }, (_, t) => ({ layer, order, series: s.name, hour: t / SLOTS_PER_HOUR, kw: s.kw(at(t)) })),
    );
  const price = Array.from({ length: SLOTS + 1 }, (_, t) => ({ hour: t / SLOTS_PER_HOUR, eur: scenario.priceKwh[at(t)] }));

  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    sort: null,
    scale: { domain: [...sources, ...lines].map((s) => s.name), range: [...sources, ...lines].map((s) => s.color) },
    legend: { orient: 'right', symbolType: 'square', labelLimit: 220 },
  };
  const x = { field: 'hour', type: 'quantitative', scale: hourScale };

  return {
    title: { text: title, anchor: 'start', fontSize: 15 },
    vconcat: [
      {
        width,
        height: 320,
        data: { values: [...rows(sources, 'area'), ...rows(lines, 'line')] },
        encoding: { x: { ...x, axis: { ...hourAxis, title: null } }, color },
        layer: [
          {
            transform: [{ filter: "datum.layer === 'area'" }],
            mark: { type: 'area', interpolate: 'step-after', opacity: 0.85 },
            encoding: {
              y: { field: 'kw', type: 'quantitative', stack: 'zero', title: 'power (kW)' },
              order: { field: 'order', type: 'quantitative' },
            },
          },
          {
            transform: [{ filter: "datum.layer === 'line'" }],
            mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
            encoding: { y: { field: 'kw', type: 'quantitative' } },
          },
        ],
      },
      {
        width,
        height: 90,
        data: { values: price },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2, color: '#e15759' },
        encoding: {
          x: { ...x, axis: hourAxis },
          y: { field: 'eur', type: 'quantitative', title: 'buy (€/kWh)', scale: { zero: false, padding: 8 }, axis: { tickCount: 3 } },
        },
      },
    ],
  };
}

/** Write an SVG as is (.svg) or rendered to PNG (.png). */
export async function writePlot(svg: string, path: string): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (ext === '.svg') return writeFile(path, svg);
  if (ext !== '.png') throw new Error(`cannot write plot to ${path}: expected a .svg or .png file`);
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'width', value: 1200 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  await writeFile(path, png);
}

/** The cost–peak front as an SVG, with reference policies marked. */
export async function paretoPlotSvg(
  front: { peakKw: number; costEur: number }[],
  marks: { name: string; peakKw: number; costEur: number }[],
  title: string,
): Promise<string> {
  const frontData = front.map((p) => ({ peak: p.peakKw, cost: p.costEur, series: 'MILP front (ε-constraint)' }));
  const markData = marks.map((m) => ({ peak: m.peakKw, cost: m.costEur, series: m.name }));
  const x = { field: 'peak', type: 'quantitative', title: 'import peak (kW)', scale: { zero: false } };
  const y = { field: 'cost', type: 'quantitative', title: 'energy cost (€)', scale: { zero: false } };
  const color = { field: 'series', type: 'nominal', title: null };
  return vegaLiteToSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 600,
    height: 360,
    layer: [
      { data: { values: frontData }, mark: { type: 'line', point: true }, encoding: { x, y, color } },
      { data: { values: markData }, mark: { type: 'point', filled: true, size: 120, shape: 'diamond' }, encoding: { x, y, color } },
    ],
  });
}
