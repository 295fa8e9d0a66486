import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommunity, type Community } from '../../community/community.js';

/**
 * Three paper apartments with PV of 2–4 kWp (seeded) behind one feeder: 5 kW binds the caps on
 * most evenings (three 6 kW contracts), 12 kW rarely.
 */
export function apartments(feederKw: number, id = 'tight-3'): Community {
  return parseCommunity({
    id,
    name: 'Three apartments behind one feeder',
    description: 'test',
    homes: [{ scenario: 'paper-apartment', id: 'apt', count: 3, vary: { pvPeakKw: [2, 4] } }],
    feeder: { limitKw: feederKw },
    peakEurPerKwDay: 0.1,
    market: 'sdr',
  });
}

/** A community run's metrics.csv rows, split into fields (header left out). */
export const metricsRows = (dir: string): string[][] =>
  readFileSync(join(dir, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
