import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { COMPUTED_FIELDS, type Scenario } from '../env/index.js';
import type { Algorithm } from '../agents/agent.js';
import type { DqnConfig, QLearningConfig } from '../agents/config.js';
import type { Validation } from './validation.js';

/**
 * A run folder: one training run, everything `rescoin evaluate` and `rescoin export` read later.
 *   config.json     what defines the run (algorithm, scenario and its hash, seed, episodes, hyper-parameters)
 *   metrics.csv     the learning curve: one row per episode, appended as it ends (a crash loses nothing written)
 *   checkpoint/     the agent and the loop state (loop.json), replaced atomically
 *   model/          the policy, only what acting and export need: the best validated one (a copy of
 *                   best/) with validation, else the final agent
 *   validation.csv  with validation: one row per validation of the greedy policy
 *   best/           the best validated policy so far and its figures (best/validation.json)
 *   learning-curve.svg / .png
 * A folder is replaced by writing `<name>.tmp`, moving the old one to `<name>.old`, then renaming;
 * a crash between the two renames leaves `<name>.old`, which opening the run puts back.
 */

export const RUN_FORMAT = 1;

export interface RunConfig {
  format: number;
  algorithm: Algorithm;
  scenario: string;
  scenarioHash: string;
  seed: number;
  episodes: number;
  config: QLearningConfig | DqnConfig;
  /** How training days are drawn. */
  days: string;
  createdAt: string;
}

/** checkpoint/loop.json: where the loop stands. */
export interface LoopState {
  episodesDone: number;
  elapsedSec: number;
}

export const METRIC_COLUMNS = ['episode', 'day_seed', 'return', 'score', 'cost', 'peak_kw', 'par', 'rescoin', 'violations', 'epsilon', 'loss', 'steps', 'updates', 'elapsed_s'] as const;
export const VALIDATION_COLUMNS = ['episode', 'mean_score', 'mean_peak_kw', 'violations', 'best'] as const;

/**
 * Why a run folder was refused: `exists` (a new run asked for a folder that holds one), `not-a-run`
 * (no config.json), `format` (written by another run format), `scenario` (resumed on another home).
 */
export type RunDirProblem = 'exists' | 'not-a-run' | 'format' | 'scenario';

export class RunDirError extends Error {
  constructor(
    readonly problem: RunDirProblem,
    readonly dir: string,
    message: string,
  ) {
    super(message);
    this.name = 'RunDirError';
  }
}

type Fill = (dir: string) => Promise<void>;

export class RunDir {
  readonly configPath: string;
  readonly metricsPath: string;
  readonly validationPath: string;
  readonly checkpoint: string;
  readonly model: string;
  readonly best: string;

  constructor(readonly dir: string) {
    this.configPath = join(dir, 'config.json');
    this.metricsPath = join(dir, 'metrics.csv');
    this.validationPath = join(dir, 'validation.csv');
    this.checkpoint = join(dir, 'checkpoint');
    this.model = join(dir, 'model');
    this.best = join(dir, 'best');
  }

  /** A new run in `dir`: refuses a folder that holds one, unless `overwrite` (which deletes it). */
  static create(dir: string, run: RunConfig, opts: { overwrite?: boolean } = {}): RunDir {
    const runDir = new RunDir(dir);
    if (existsSync(runDir.configPath)) {
      if (!opts.overwrite)
        throw new RunDirError('exists', dir, `${dir} already holds a run: resume it (resume: true), replace it (overwrite: true), or choose another folder`);
      rmSync(dir, { recursive: true, force: true });
    }
    mkdirSync(dir, { recursive: true });
    runDir.writeConfig(run);
    return runDir;
  }

  /** The run in `dir`, to resume: puts back a checkpoint/ or best/ that a crash left half-replaced. */
  static open(dir: string): RunDir {
    const runDir = new RunDir(dir);
    runDir.readConfig();
    recoverDir(runDir.checkpoint);
    recoverDir(runDir.best);
    recoverDir(runDir.model);
    return runDir;
  }

  readConfig(): RunConfig {
    if (!existsSync(this.configPath)) throw new RunDirError('not-a-run', this.dir, `${this.dir} is not a run folder: it has no config.json`);
    const run = JSON.parse(readFileSync(this.configPath, 'utf8')) as RunConfig;
    if (run.format !== RUN_FORMAT) throw new RunDirError('format', this.dir, `${this.configPath}: run format ${run.format}, this rescoin reads format ${RUN_FORMAT}`);
    return run;
  }

  writeConfig(run: RunConfig): void {
    writeFileAtomic(this.configPath, `${JSON.stringify(run, null, 2)}\n`);
  }

  /** The loop state of the last checkpoint, or null when there is none yet. */
  readLoop(): LoopState | null {
    const path = join(this.checkpoint, 'loop.json');
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as LoopState) : null;
  }

  /** Replaces checkpoint/ with what `save` writes and the loop state, written last. */
  async writeCheckpoint(loop: LoopState, save: Fill): Promise<void> {
    await replaceDir(this.checkpoint, async (tmp) => {
      await save(tmp);
      writeFileSync(join(tmp, 'loop.json'), `${JSON.stringify(loop)}\n`);
    });
  }

  /** Opens metrics.csv for episode `episodesDone` on: the rows written after the checkpoint are dropped, to be redone. */
  startMetrics(episodesDone: number): void {
    keepRows(this.metricsPath, METRIC_COLUMNS, episodesDone);
  }

  appendMetrics(row: readonly unknown[]): void {
    appendFileSync(this.metricsPath, `${row.join(',')}\n`);
  }

  /** Opens validation.csv with the rows up to `episodesDone`; returns the last validated episode (−1: none). */
  startValidation(episodesDone: number): number {
    keepRows(this.validationPath, VALIDATION_COLUMNS, episodesDone + 1);
    const last = readFileSync(this.validationPath, 'utf8').trim().split('\n').slice(1).at(-1);
    return last === undefined ? -1 : Number(last.split(',')[0]);
  }

  appendValidation(row: readonly unknown[]): void {
    appendFileSync(this.validationPath, `${row.join(',')}\n`);
  }

  /** best/'s figures, or null (and best/ removed) when there is none or it is ahead of `episodesDone`: it will be redone. */
  readBest(episodesDone: number): Validation | null {
    const path = join(this.best, 'validation.json');
    const v = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Validation) : null;
    if (v && v.episode <= episodesDone) return v;
    rmSync(this.best, { recursive: true, force: true });
    return null;
  }

  /** Replaces best/ with the policy `save` writes and its figures (validation.json, written last). */
  async writeBest(v: Validation, save: Fill): Promise<void> {
    await replaceDir(this.best, async (tmp) => {
      await save(tmp);
      writeFileSync(join(tmp, 'validation.json'), `${JSON.stringify(v, null, 2)}\n`);
    });
  }

  /** Replaces model/ with the policy `save` writes. */
  async writeModel(save: Fill): Promise<void> {
    await replaceDir(this.model, save);
  }

  /** Replaces model/ with a copy of best/. */
  async copyBestToModel(): Promise<void> {
    await replaceDir(this.model, async (tmp) => cpSync(this.best, tmp, { recursive: true }));
  }
}

/** A short hash of the scenario's content: a run is only resumed or evaluated on the same home. */
export function scenarioHash(s: Scenario): string {
  const spec: Record<string, unknown> = { ...s };
  for (const k of COMPUTED_FIELDS) delete spec[k];
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

/** config.json of the run in `dir`. */
export function readRunConfig(dir: string): RunConfig {
  return new RunDir(dir).readConfig();
}

export function writeFileAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Keeps a per-episode CSV's header and its rows of episodes below `below` (creates it when missing). */
function keepRows(path: string, columns: readonly string[], below: number): void {
  if (!existsSync(path)) {
    writeFileSync(path, `${columns.join(',')}\n`);
    return;
  }
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  const kept = [lines[0], ...lines.slice(1).filter((l) => Number(l.split(',')[0]) < below)];
  writeFileAtomic(path, `${kept.join('\n')}\n`);
}

/** Replace a folder whole: fill a `.tmp` beside it, then swap (the last good one stays as `.old` until the swap is done). */
export async function replaceDir(target: string, fill: Fill): Promise<void> {
  const tmp = `${target}.tmp`;
  const old = `${target}.old`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await fill(tmp);
  rmSync(old, { recursive: true, force: true });
  if (existsSync(target)) renameSync(target, old);
  renameSync(tmp, target);
  rmSync(old, { recursive: true, force: true });
}

/** Undoes a replaceDir that a crash interrupted: a `.tmp` may be incomplete, a lone `.old` is the last good one. */
export function recoverDir(target: string): void {
  rmSync(`${target}.tmp`, { recursive: true, force: true });
  if (!existsSync(target) && existsSync(`${target}.old`)) renameSync(`${target}.old`, target);
  else rmSync(`${target}.old`, { recursive: true, force: true });
}
