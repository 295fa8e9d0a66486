import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The learning curve: each episode's score J (metrics.csv) and its moving average, as SVG and PNG. */
export async function writeLearningCurve(dir: string): Promise<void> {
  const lines = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1);
  const rows = lines.map((l) => l.split(',').map(Number));
  const window = Math.max(1, Math.round(rows.length / 20));
  const values = rows.flatMap((r, k) => {
    const from = Math.max(0, k - window + 1);
    const avg = rows.slice(from, k + 1).reduce((a, b) => a + b[3], 0) / (k + 1 - from);
    return [
      { episode: r[0], score: r[3], series: 'score J of the day' },
      { episode: r[0], score: avg, series: `mean of ${window}` },
    ];
  });
  const { vegaLiteToSvg, writePlot } = await import('./plot.js');
  const svg = await vegaLiteToSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `learning curve: ${dir}`,
    width: 700,
    height: 320,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'episode', type: 'quantitative' },
      y: { field: 'score', type: 'quantitative', title: 'score J (€, lower is better)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
      opacity: { condition: { test: "datum.series === 'score J of the day'", value: 0.35 }, value: 1 },
    },
  });
  await writePlot(svg, join(dir, 'learning-curve.svg'));
  await writePlot(svg, join(dir, 'learning-curve.png'));
}
