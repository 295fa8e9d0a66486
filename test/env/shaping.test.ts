import { describe, expect, it } from 'vitest';
import { loadScenario, makeEnv, peakPotential, Rng, sampleAllowed, shapingTerm, type HomeView } from '../../env/index.js';

const s = loadScenario('paper-apartment');

/** A HomeView with only what peakPotential reads. */
function view(slot: number, peakKw: number, neededKwh: number, dueSlot: number): HomeView {
  return { slot, peakKw, ev: { home: true, socKwh: 20, capacityKwh: 40, levelsKw: new Float64Array([0, 1.84, 3.68]), neededKwh, dueSlot } } as unknown as HomeView;
}

describe('peak shaping potential', () => {
  // k = λ + v·r_peak = 0.06 + 0.01·5 = 0.11 €/kW; one slot at 1.84 kW adds 1.84·0.9·0.25 = 0.414 kWh.
  it('prices the lowest charge level that still meets the EV, above the running peak (hand-solved)', () => {
    // 4.14 kWh in 10 slots: exactly 1.84 kW on average, so the slow level does it.
    expect(peakPotential(s, view(20, 0.1, 4.14, 30))).toBeCloseTo(-0.11 * (1.84 - 0.1), 12);
    // one slot less: 2.04 kW on average, the fast level is unavoidable.
    expect(peakPotential(s, view(21, 0.1, 4.14, 30))).toBeCloseTo(-0.11 * (3.68 - 0.1), 12);
    // the peak is already above the level: nothing more is committed.
    expect(peakPotential(s, view(21, 3.9, 4.14, 30))).toBeCloseTo(0, 15);
    expect(peakPotential(s, view(21, 0.1, 0, 30))).toBeCloseTo(0, 15);
  });

  it('telescopes over a day: with γ = 1 the shaping terms sum to −Φ(s₀), whatever the actions', () => {
    const env = makeEnv(s);
    const rng = new Rng(7);
    const action = new Int32Array(env.nComponents);
    let seenNonZero = false;
    for (let day = 0; day < 5; day++) {
      let { info } = env.reset({ seed: 1000 + day });
      const phi0 = peakPotential(s, info.home);
      let sum = 0;
      let phi = phi0;
      seenNonZero ||= phi0 !== 0;
      for (let t = 0; t < 96; t++) {
        const r = env.step(sampleAllowed(info.home, rng, action));
        info = r.info;
        const next = r.terminated ? 0 : peakPotential(s, info.home);
        seenNonZero ||= next !== 0;
        sum += shapingTerm(1, phi, next, r.terminated);
        phi = next;
      }
      expect(sum).toBeCloseTo(-phi0, 12);
    }
    expect(seenNonZero).toBe(true);
  });
});
