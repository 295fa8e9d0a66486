import { it } from 'vitest';
import { loadScenario, parseScenario } from '../../env/index.js';
import { checkHabits, checkTable, drawObservations } from '../../habits/check.js';
import { writeCheckPlots } from '../../habits/check-plots.js';
import { readScenarioJson } from '../../habits/fit.js';
it('scratch', async () => {
  const raw = readScenarioJson('paper-apartment') as any;
  const dw = raw.appliances.find((a: any) => a.id === 'dishwasher');
  dw.window = [dw.window[0] - 8, dw.window[1] - 8];
  const r = checkHabits(parseScenario(raw), drawObservations(loadScenario('paper-apartment'), 3000, 11), { days: 10000, seed: 1 });
  console.log(checkTable(r));
  await writeCheckPlots(r, '/tmp/hc');
}, 60000);
