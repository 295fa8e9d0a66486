import { parseScenario, type Scenario, type ScenarioInput } from '../env/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../env/index.js';

/** The raw JSON of a shipped scenario, to derive test variants from. */
export function rawScenario(id: string): ScenarioInput {
  return JSON.parse(readFileSync(join(dataDir(), 'scenarios', `${id}.json`), 'utf8')) as ScenarioInput;
}

/**
 * A tiny home that can be solved by hand: one band at 0.10 €/kWh, feed-in 0.05 €/kWh, no PV, no
 * fixed load, no EV, one non-interruptible 2-slot heater of 2 kW asked for every day in [10, 13].
 */
export function tinyScenario(overrides: Partial<ScenarioInput> = {}): Scenario {
  const raw: ScenarioInput = {
    id: 'tiny',
    name: 'tiny',
    description: 'hand-checkable',
    grid: { contractKw: 6, exportLimitKw: 3, source: 'test' },
    tariff: { bands: [{ name: 'flat', eurPerKwh: 0.1, slots: [[0, 95]] }], feedInEurPerKwh: 0.05, feedInSource: 'test', source: 'test' },
    pv: { peakKw: 0, profile: { hourlyKwPerKwp: new Array(24).fill(0) }, source: 'test' },
    fixedLoads: [],
    appliances: [
      {
        id: 'heater',
        name: 'Heater',
        kind: 'non-interruptible',
        cycleKw: [2, 2],
        cycleSource: 'test',
        window: [10, 13],
        habits: { weekdayProbability: 1, weekendProbability: 1, releaseSdSlots: 0 },
      },
    ],
    ev: null,
    objective: { peakEurPerKw: 0.5, fo2Weight: 0.01, fo2BreakpointsKw: [-4, -3, -2, -1, 0, 1, 2, 3, 4], source: 'test' },
    rescoin: { valueEur: 0.01, perKwhSelfConsumed: 1, perKwhExported: 0.5, perKwPeakReduction: 10, source: 'test' },
    ...overrides,
  };
  return parseScenario(raw, 'tiny');
}
