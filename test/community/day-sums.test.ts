import { describe, expect, it } from 'vitest';
import { daySeed, Rng, SLOTS } from '../../env/index.js';
import { drawCommunityDay, loadCommunity, parseCommunity, type Community } from '../../community/community.js';
import { CommunityCore } from '../../community/core.js';
import { MECHANISMS } from '../../community/market.js';

/** Every number equal as Object.is has it (so 0 and −0 differ, NaN equals NaN), with the path of the first that is not. */
function sameBits(a: unknown, b: unknown, path = ''): string | null {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) ? null : `${path}: ${a} vs ${b}`;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    if (ka.join() !== Object.keys(b).join()) return `${path}: keys ${ka.join()} vs ${Object.keys(b).join()}`;
    for (const k of ka) {
      const d = sameBits((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${String(a)} vs ${String(b)}`;
}

function tight(homes: number, market: string): Community {
  return parseCommunity({
    id: 'tight',
    name: 'tight',
    description: 'test',
    homes: [{ scenario: 'paper-apartment', id: 'apt', count: homes, vary: { pvPeakKw: [0, 6] } }],
    feeder: { limitKw: 1.8 * homes },
    peakEurPerKwDay: 0.1,
    market,
  });
}

describe("the core's summary from running sums (community/day-sums.ts)", () => {
  it('is scoreCommunityDay bit for bit, every market, random actions, fallbacks included', () => {
    const c9 = loadCommunity('citylearn-9');
    let compared = 0;
    for (const market of MECHANISMS) {
      for (const c of [{ ...c9, market }, tight(8, market)]) {
        const core = new CommunityCore(c);
        const rng = new Rng(market.length);
        const actions = new Int32Array(core.actOffsets[core.n]);
        for (let d = 0; d < 4; d++) {
          core.begin(drawCommunityDay(c, daySeed(21, d)));
          for (let t = 0; t < SLOTS; t++) {
            for (let i = 0; i < core.n; i++) {
              const h = core.homes[i];
              // Mostly the first value, sometimes any value (a fallback): both capped and free slots.
              for (let k = 0; k < h.nComponents; k++) actions[core.actOffsets[i] + k] = rng.float() < 0.3 ? rng.int(0, h.nvec[k] - 1) : 0;
              core.applyHome(i, actions, core.actOffsets[i]);
            }
            core.settle();
          }
          const fast = core.summary(d);
          const ref = core.referenceSummary(d);
          expect(sameBits(fast, ref)).toBeNull();
          expect(fast.homes.length).toBe(c.homes.length);
          compared++;
        }
      }
    }
    expect(compared).toBe(8 * MECHANISMS.length);
  });

  it('before the day ends, summary() is the reference of the flows so far', () => {
    const c = tight(3, 'sdr');
    const core = new CommunityCore(c);
    core.begin(drawCommunityDay(c, 5));
    const a = new Int32Array(core.actOffsets[core.n]);
    for (let i = 0; i < core.n; i++) core.applyHome(i, a, core.actOffsets[i]);
    core.settle();
    expect(sameBits(core.summary(5), core.referenceSummary(5))).toBeNull();
  });

  it('the comparison can fail: one changed flow shows', () => {
    const c = tight(3, 'sdr');
    const core = new CommunityCore(c);
    core.begin(drawCommunityDay(c, 6));
    const a = new Int32Array(core.actOffsets[core.n]);
    while (!core.done) {
      for (let i = 0; i < core.n; i++) core.applyHome(i, a, core.actOffsets[i]);
      core.settle();
    }
    const fast = core.summary(6);
    core.exportKw[40] += 1e-9;
    expect(sameBits(fast, core.referenceSummary(6))).toMatch(/^\.(score|homes)/);
  });
});
