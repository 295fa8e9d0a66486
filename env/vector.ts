import type { Scenario } from './scenario.js';
import { HomeCore, type HomeView } from './core.js';
import { drawDay } from './day.js';
import { daySeed } from './rng.js';
import { scoreDay, type ScoreParts } from './score.js';
import { SLOTS } from './time.js';

/**
 * N homes stepped in one call on typed arrays (the fast path for collecting experience).
 *
 * Buffers are owned by the vector env and overwritten by every call: copy what you keep.
 * - `observations[i * obsSize + k]`, `masks[i * maskSize + m]` (the MultiDiscrete masks of home i)
 * - `actions[i * nComponents + c]` in `step(actions)`
 * Autoreset in the same step: when home i ends its day, `terminated[i]` is 1, `summaries[i]` holds the
 * day's score and the buffers already show its next day. Home i's k-th day is
 * `daySeed(seed, k * N + i)`: the same days whatever the number of steps.
 */
export class VectorHomeEnv {
  readonly n: number;
  readonly obsSize: number;
  readonly maskSize: number;
  readonly nComponents: number;
  readonly observations: Float32Array;
  readonly masks: Uint8Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  /** Day summaries of the homes that ended a day in the last step, else null. */
  readonly summaries: (VectorDaySummary | null)[];
  readonly homes: HomeCore[];
  private readonly dayCount: Int32Array;
  private readonly flows: { importKw: Float64Array; exportKw: Float64Array; loadKw: Float64Array; socKwh: Float64Array }[];
  private seed = 0;

  constructor(
    readonly scenario: Scenario,
    n: number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`VectorHomeEnv: n must be a positive integer, got ${n}`);
    this.n = n;
    this.homes = Array.from({ length: n }, () => new HomeCore(scenario));
    this.obsSize = this.homes[0].obsSize;
    this.maskSize = this.homes[0].maskSize;
    this.nComponents = this.homes[0].nComponents;
    this.observations = new Float32Array(n * this.obsSize);
    this.masks = new Uint8Array(n * this.maskSize);
    this.rewards = new Float64Array(n);
    this.terminated = new Uint8Array(n);
    this.summaries = new Array(n).fill(null);
    this.dayCount = new Int32Array(n);
    this.flows = Array.from({ length: n }, () => ({ importKw: new Float64Array(SLOTS), exportKw: new Float64Array(SLOTS), loadKw: new Float64Array(SLOTS), socKwh: new Float64Array(SLOTS + 1) }));
  }

  /** Start every home on its first day of `seed` (or on round `firstRound`, to resume a run). */
  reset(seed = 0, firstRound = 0): Float32Array {
    this.seed = seed;
    this.dayCount.fill(firstRound);
    for (let i = 0; i < this.n; i++) this.begin(i);
    return this.observations;
  }

  private begin(i: number): void {
    const home = this.homes[i];
    home.begin(drawDay(this.scenario, daySeed(this.seed, this.dayCount[i] * this.n + i)));
    this.dayCount[i]++;
    this.publish(i);
  }

  private publish(i: number): void {
    const home = this.homes[i];
    home.writeObservation(this.observations, i * this.obsSize);
    this.masks.set(home.mask, i * this.maskSize);
  }

  /** What a policy may see of home i now (a live view, for masks and potentials: read only). */
  view(i: number): HomeView {
    return this.homes[i];
  }

  /** Step every home with its action; returns the rewards (see the class comment for the rest). */
  step(actions: Int32Array): Float64Array {
    if (actions.length !== this.n * this.nComponents)
      throw new Error(`VectorHomeEnv.step(): expected ${this.n * this.nComponents} actions (${this.n} homes × ${this.nComponents}), got ${actions.length}`);
    for (let i = 0; i < this.n; i++) {
      const home = this.homes[i];
      const t = home.slot;
      this.rewards[i] = home.step(actions, i * this.nComponents);
      const f = this.flows[i];
      f.importKw[t] = home.lastImportKw;
      f.exportKw[t] = home.lastExportKw;
      f.loadKw[t] = home.lastLoadKw;
      if (home.done) {
        this.terminated[i] = 1;
        // Only the end SoC enters J (the soft midnight requirement).
        f.socKwh[SLOTS] = home.ev ? home.ev.socKwh : NaN;
        this.summaries[i] = { ...scoreDay(this.scenario, home.day, f), seed: home.day.seed, violations: home.violations, return: home.returnSum };
        this.begin(i);
      } else {
        this.terminated[i] = 0;
        this.summaries[i] = null;
        this.publish(i);
      }
    }
    return this.rewards;
  }
}

/** What a vector env offers its user, so that a wrapper (env/shaping.ts) can stand in for it. */
export type VectorEnv = Pick<VectorHomeEnv, 'scenario' | 'n' | 'obsSize' | 'nComponents' | 'observations' | 'rewards' | 'terminated' | 'summaries' | 'reset' | 'step' | 'view'>;

export interface VectorDaySummary extends ScoreParts {
  seed: number;
  violations: number;
  return: number;
}
