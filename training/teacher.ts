import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mix32, SLOTS, type HomeView, type Scenario, type StepInfo, type VectorEnv } from '../env/index.js';
import { mpcPolicy, type MpcPolicy } from '../baseline/index.js';
import type { ActionCodec } from '../runtime/index.js';
import { linearSchedule } from '../agents/agent.js';
import type { QLearningConfig } from '../agents/config.js';

/**
 * The teacher of `rescoin train --teacher mpc` (DAgger): one MPC per home of the vector env labels
 * the state the home is in with the MPC's action, whoever then acts; told what was played, it plans
 * from the home as it is. Its labels are cached in the run folder, one file per round, so that a
 * resumed run, which replays the rounds after its checkpoint exactly, solves none of them again.
 */

export class Teacher {
  /** One MPC per home of this teacher's share (an MPC builds its habit samplers when made). */
  private readonly mpcs = new Map<number, MpcPolicy>();
  private readonly info: StepInfo[];
  /** The homes this teacher labels (all n by default; a share of them in a worker thread, teacher-pool.ts). */
  readonly homes: number[];

  constructor(
    readonly scenario: Scenario,
    readonly n: number,
    mipRelGap: number,
    homes?: number[],
  ) {
    this.homes = homes ?? Array.from({ length: n }, (_, i) => i);
    for (const i of this.homes) this.mpcs.set(i, mpcPolicy(scenario, { mipRelGap }));
    this.info = Array.from({ length: n }, () => ({ slot: 0, actionMask: new Uint8Array(0), violations: 0, home: null as unknown as HomeView }));
  }

  /** Call at the start of each round's day. */
  async startDay(): Promise<void> {
    for (const i of this.homes) await this.mpc(i).reset?.(this.info[i]);
  }

  /** Labels of this teacher's homes now, into out[i]. */
  labelHomes(env: VectorEnv, codec: ActionCodec, out: Int32Array): Int32Array {
    for (const i of this.homes) out[i] = this.label(i, env, codec);
    return out;
  }

  /** What every home played (n × components): each of this teacher's MPCs is told its home's. */
  playedAll(actions: Int32Array, nComponents: number): void {
    for (const i of this.homes) this.played(i, actions.subarray(i * nComponents, (i + 1) * nComponents));
  }

  /** The teacher's flat action for home i now. */
  label(i: number, env: VectorEnv, codec: ActionCodec): number {
    const view = env.view(i);
    const info = this.info[i];
    info.slot = view.slot;
    info.home = view;
    const o = env.observations.subarray(i * env.obsSize, (i + 1) * env.obsSize);
    return codec.flatten(this.mpc(i).act(o, info));
  }

  /** What home i played (components). */
  played(i: number, components: ArrayLike<number>): void {
    this.mpc(i).played?.(components);
  }

  private mpc(i: number): MpcPolicy {
    const m = this.mpcs.get(i);
    if (!m) throw new Error(`Teacher: home ${i} is not in this teacher's share (${this.homes.join(', ')})`);
    return m;
  }
}

/** Whether the teacher labels episode `episode` (config.teacherEpisodes: the first ones; 0: all). */
export function teaches(c: Pick<QLearningConfig, 'teacher' | 'teacherEpisodes'>, episode: number): boolean {
  return c.teacher !== 'none' && (c.teacherEpisodes === 0 || episode < c.teacherEpisodes);
}

/** DAgger's β at an episode: the probability that a home plays the teacher's action. */
export function teacherBeta(c: Pick<QLearningConfig, 'betaStart' | 'betaEnd' | 'betaFraction'>, episode: number, totalEpisodes: number): number {
  return linearSchedule(c.betaStart, c.betaEnd, c.betaFraction * totalEpisodes, episode);
}

/**
 * Whether home-slot (episode, slot) of run `seed` plays the teacher's action: a hash of the three,
 * not a generator's draw, so the choice is the same on a resumed run and in any order of homes.
 */
export function playsTeacher(seed: number, episode: number, slot: number, beta: number): boolean {
  if (beta >= 1) return true;
  if (beta <= 0) return false;
  return mix32((mix32(mix32(seed) ^ episode) ^ slot) >>> 0) / 2 ** 32 < beta;
}

/** teacher/round-<k>.bin: the labels of round k, home-major (n × 96 flat actions, int32 little-endian). */
export class LabelCache {
  readonly dir: string;

  constructor(runDir: string) {
    this.dir = join(runDir, 'teacher');
  }

  private path(round: number): string {
    return join(this.dir, `round-${String(round).padStart(6, '0')}.bin`);
  }

  /** The round's labels, or null when none were cached (or a file has the wrong size: it is recomputed). */
  read(round: number, n: number): Int32Array | null {
    const p = this.path(round);
    if (!existsSync(p)) return null;
    const data = readFileSync(p);
    if (data.byteLength !== n * SLOTS * 4) return null;
    const out = new Int32Array(n * SLOTS);
    new Uint8Array(out.buffer).set(data);
    return out;
  }

  /** Writes atomically (a temporary file, then a rename): a crash leaves the file whole or absent. */
  write(round: number, labels: Int32Array): void {
    mkdirSync(this.dir, { recursive: true });
    const p = this.path(round);
    writeFileSync(`${p}.tmp`, new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength));
    renameSync(`${p}.tmp`, p);
  }
}
