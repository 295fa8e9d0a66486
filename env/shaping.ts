import type { Scenario } from './scenario.js';
import { evRate, type HomeView } from './core.js';
import type { Env, ResetOptions } from './home.js';
import type { VectorEnv } from './vector.js';

/**
 * # Peak shaping: a potential for the EV's unavoidable peak (Ng, Harada & Russell 1999)
 *
 * An EV left idle costs nothing in the slot it idles: the cost comes many slots later, when its
 * floor forces the fast level and the running peak jumps. One-step targets carry that back one
 * slot per update, so agents learn "idle until forced" first and unlearn it slowly. The potential
 *
 *   Φ(s) = −k · max(0, ⌈P_need / step⌉ · step − peak),   P_need = needed / (η_c · Δt · slots to due)
 *
 * (P_need / step is the observation's ev.rate, `evRate`)
 *
 * is the peak cost already committed in s: the lowest charge level that still meets the EV's next
 * requirement if spread evenly, minus the running peak, priced at k = λ + v·r_peak €/kW (the peak
 * term's slope below the reference peak). The shaped reward r + γ·Φ(s') − Φ(s), with Φ = 0 after
 * the last slot, charges that cost in the slot whose idling makes the fast level unavoidable.
 * Being potential-based, it leaves every policy's ranking, and so the optimum, unchanged; training
 * only uses it, every score and metric stays the unshaped J.
 */
export function peakPotential(s: Scenario, v: HomeView): number {
  if (!v.ev || !s.ev) return 0;
  const level = Math.ceil(evRate(v.ev, s.ev, v.slot) - 1e-9) * s.ev.chargeStepKw;
  const k = s.objective.peakEurPerKw + s.rescoin.valueEur * s.rescoin.perKwPeakReduction;
  return -k * Math.max(0, level - v.peakKw);
}

/** The shaping term γ·Φ(s') − Φ(s), with Φ(s') = 0 when the day ended. */
export function shapingTerm(gamma: number, phiBefore: number, phiAfter: number, done: boolean): number {
  return (done ? 0 : gamma * phiAfter) - phiBefore;
}

/**
 * A vector env whose `rewards` are peak-shaped: r + γ·Φ(s') − Φ(s) per home, Φ(s') = 0 when its day
 * ended. Observations, terminations and the day summaries (the unshaped J) pass through, so every
 * metric stays unshaped.
 */
export class PeakShapingVector implements VectorEnv {
  readonly rewards: Float64Array;
  /** Φ of each home's current state: the `Φ(s)` of its next step. */
  private readonly phi: Float64Array;

  constructor(
    readonly env: VectorEnv,
    readonly gamma: number,
  ) {
    this.rewards = new Float64Array(env.n);
    this.phi = new Float64Array(env.n);
  }

  get scenario(): Scenario {
    return this.env.scenario;
  }
  get n(): number {
    return this.env.n;
  }
  get obsSize(): number {
    return this.env.obsSize;
  }
  get nComponents(): number {
    return this.env.nComponents;
  }
  get observations(): Float32Array {
    return this.env.observations;
  }
  get terminated(): Uint8Array {
    return this.env.terminated;
  }
  get summaries(): VectorEnv['summaries'] {
    return this.env.summaries;
  }

  view(i: number): HomeView {
    return this.env.view(i);
  }

  reset(seed?: number, firstRound?: number): Float32Array {
    const obs = this.env.reset(seed, firstRound);
    for (let i = 0; i < this.n; i++) this.phi[i] = peakPotential(this.scenario, this.env.view(i));
    return obs;
  }

  step(actions: Int32Array): Float64Array {
    const r = this.env.step(actions);
    for (let i = 0; i < this.n; i++) {
      const done = this.env.terminated[i] === 1;
      // After an autoreset the view already shows the next day, whose start is the next Φ(s).
      const now = peakPotential(this.scenario, this.env.view(i));
      this.rewards[i] = r[i] + shapingTerm(this.gamma, this.phi[i], done ? 0 : now, done);
      this.phi[i] = now;
    }
    return this.rewards;
  }
}

/** The single-home env with peak-shaped rewards (as PeakShapingVector); `info` stays unshaped. */
export class PeakShaping<Act> implements Env<Float32Array, Act> {
  readonly actionSpace;
  readonly observationSpace;
  private phi = 0;

  constructor(
    readonly env: Env<Float32Array, Act>,
    readonly scenario: Scenario,
    readonly gamma: number,
  ) {
    this.actionSpace = env.actionSpace;
    this.observationSpace = env.observationSpace;
  }

  reset(opts?: ResetOptions) {
    const r = this.env.reset(opts);
    this.phi = peakPotential(this.scenario, r.info.home);
    return r;
  }

  step(action: Act) {
    const r = this.env.step(action);
    const after = r.terminated ? 0 : peakPotential(this.scenario, r.info.home);
    const reward = r.reward + shapingTerm(this.gamma, this.phi, after, r.terminated);
    this.phi = after;
    return { ...r, reward };
  }

  close(): void {
    this.env.close();
  }
}
