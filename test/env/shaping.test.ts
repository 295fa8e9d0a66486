import { describe, expect, it } from 'vitest';
import { loadScenario, makeEnv, PeakShaping, PeakShapingVector, peakPotential, Rng, sampleAllowed, shapingTerm, VectorHomeEnv, type HomeView } from '../../env/index.js';

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

describe('peak shaping wrappers', () => {
  it('PeakShapingVector: r + γ·Φ(s′) − Φ(s) per home, bit for bit; observations and day summaries unshaped', () => {
    const n = 3;
    const gamma = 0.99;
    const plain = new VectorHomeEnv(s, n);
    const shaped = new PeakShapingVector(new VectorHomeEnv(s, n), gamma);
    plain.reset(11);
    shaped.reset(11);
    const rng = new Rng(3);
    const actions = new Int32Array(n * plain.nComponents);
    const one = new Int32Array(plain.nComponents);
    const phi = Float64Array.from({ length: n }, (_, i) => peakPotential(s, plain.view(i)));
    let days = 0;
    let shapedSteps = 0;
    // Two days and a bit: the autoreset at slot 96 starts Φ afresh on the next day.
    for (let t = 0; t < 2 * 96 + 5; t++) {
      for (let i = 0; i < n; i++) actions.set(sampleAllowed(plain.view(i), rng, one), i * plain.nComponents);
      const r = plain.step(actions);
      const rs = shaped.step(actions);
      for (let i = 0; i < n; i++) {
        const done = plain.terminated[i] === 1;
        const after = done ? 0 : peakPotential(s, plain.view(i));
        expect(rs[i]).toBe(r[i] + shapingTerm(gamma, phi[i], after, done));
        shapedSteps += rs[i] !== r[i] ? 1 : 0;
        phi[i] = peakPotential(s, plain.view(i));
        if (done) days++;
      }
      expect(shaped.observations).toEqual(plain.observations);
      expect(shaped.terminated).toEqual(plain.terminated);
      expect(shaped.summaries).toEqual(plain.summaries);
    }
    expect(days).toBe(2 * n);
    expect(shapedSteps).toBeGreaterThan(0);
  });

  it('PeakShaping: the single env shaped the same way, its day still scored unshaped', () => {
    const gamma = 1;
    const plain = makeEnv(s);
    const shaped = new PeakShaping(makeEnv(s), s, gamma);
    const rng = new Rng(5);
    const action = new Int32Array(plain.nComponents);
    for (let day = 0; day < 3; day++) {
      let { info } = plain.reset({ seed: 2000 + day });
      shaped.reset({ seed: 2000 + day });
      const phi0 = peakPotential(s, info.home);
      let phi = phi0;
      let shapedReturn = 0;
      let plainReturn = 0;
      for (let t = 0; t < 96; t++) {
        sampleAllowed(info.home, rng, action);
        const r = plain.step(action);
        const rs = shaped.step(action);
        info = r.info;
        const after = r.terminated ? 0 : peakPotential(s, info.home);
        expect(rs.reward).toBe(r.reward + shapingTerm(gamma, phi, after, r.terminated));
        expect(rs.info.day).toEqual(r.info.day);
        phi = after;
        shapedReturn += rs.reward;
        plainReturn += r.reward;
      }
      // Telescoping: with γ = 1 the shaped return is the unshaped one less Φ(s₀).
      expect(shapedReturn).toBeCloseTo(plainReturn - phi0, 12);
    }
  });
});
