import { drawDay, heldOutDay, loadScenario } from '../env/index.js';
import { solveDay } from '../baseline/index.js';
import { median, writeResults } from './common.js';

/**
 * MILP solve time to proven optimality (HiGHS in WebAssembly, one thread): 30 days of the paper's
 * apartment and 10 of the 20-appliance large home, held-out days 0… (heldOutDay: the evaluation range).
 * Goals (issue 3): median under 200 ms and under 5 s.
 */

async function run(id: string, days: number, timeLimitSec: number) {
  const s = loadScenario(id);
  const solveMs: number[] = [];
  const buildMs: number[] = [];
  const statuses: Record<string, number> = {};
  let size = { cols: 0, rows: 0 };
  for (let d = 0; d < days; d++) {
    const r = await solveDay(s, drawDay(s, heldOutDay(d)), { timeLimitSec });
    solveMs.push(r.solveMs);
    buildMs.push(r.buildMs);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    size = { cols: Math.max(size.cols, r.cols), rows: Math.max(size.rows, r.rows) };
    process.stderr.write(`\r  ${id}: day ${d + 1}/${days}, ${r.status} in ${r.solveMs.toFixed(0)} ms   `);
  }
  process.stderr.write('\n');
  const round = (x: number) => Math.round(x * 10) / 10;
  return { scenario: id, days, timeLimitSec, medianSolveMs: round(median(solveMs)), maxSolveMs: round(Math.max(...solveMs)), meanSolveMs: round(solveMs.reduce((a, b) => a + b, 0) / days), medianBuildMs: round(median(buildMs)), statuses, largestModel: size };
}

const paper = await run('paper-apartment', 30, 60);
const large = await run('large-home', 10, 120);
const path = writeResults('milp', { paperApartment: paper, largeHome: large });
for (const r of [paper, large])
  console.log(`${r.scenario.padEnd(16)} ${r.days} days: median ${r.medianSolveMs} ms, max ${r.maxSolveMs} ms, mean ${r.meanSolveMs} ms (build ${r.medianBuildMs} ms), ${JSON.stringify(r.statuses)}, up to ${r.largestModel.cols} columns × ${r.largestModel.rows} rows`);
console.log(`wrote ${path}`);
