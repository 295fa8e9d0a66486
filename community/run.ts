import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { recoverDir, replaceDir, scenarioHash, writeFileAtomic } from '../training/run-dir.js';
import type { Community } from './community.js';
import type { CommunityTrainConfig } from './config.js';

/**
 * A community run folder (community/train.ts):
 *   config.json   what defines the run: algorithm, community (its file and content hash), homes,
 *                 seed, episodes, the resolved config
 *   metrics.csv   one row per community day (episode), appended as it ends: the community J first
 *   checkpoint/   the agents and loop.json (episodes done), replaced atomically
 *   model/        the final policy: DQN's shared network (model/), or Q-learning's table per home
 *                 (model/<home id>/)
 * training/run-dir.ts's RunDir is the single home's (its metrics columns and config are a home's),
 * so this is the same pattern, smaller: a folder is replaced by writing `<name>.tmp`, moving the
 * old one to `<name>.old`, then renaming; opening a run puts back a lone `.old`.
 */

export const COMMUNITY_RUN_FORMAT = 'rescoin-community-run';

export type CommunityAlgorithm = 'dqn' | 'qlearning';

export interface CommunityRunConfig {
  format: typeof COMMUNITY_RUN_FORMAT;
  version: 1;
  algorithm: CommunityAlgorithm;
  /** The community file's path, or its id when it came from data/communities/. */
  community: string;
  communityHash: string;
  homes: string[];
  seed: number;
  episodes: number;
  config: CommunityTrainConfig;
  days: string;
  createdAt: string;
}

export interface CommunityLoop {
  episodesDone: number;
  elapsedSec: number;
}

export const COMMUNITY_METRIC_COLUMNS = ['episode', 'day_seed', 'score', 'operator_cost', 'feeder_peak_kw', 'p2p_kwh', 'violations', 'return', 'epsilon', 'loss', 'steps', 'updates', 'elapsed_s', 'feeder_excess_kwh'] as const;

/** A short hash of what the community is (homes by scenario content, feeder, prices, market). */
export function communityHash(c: Community): string {
  const spec = { id: c.id, homes: c.homes.map((h) => [h.id, scenarioHash(h.scenario)]), feederKw: c.feederKw, peak: c.peakEurPerKwDay, market: c.market, rsc: c.rscValueEur };
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export class CommunityRunDir {
  readonly configPath: string;
  readonly metricsPath: string;
  readonly checkpoint: string;
  readonly model: string;

  constructor(readonly dir: string) {
    this.configPath = join(dir, 'config.json');
    this.metricsPath = join(dir, 'metrics.csv');
    this.checkpoint = join(dir, 'checkpoint');
    this.model = join(dir, 'model');
  }

  /** A new run: refuses a folder holding one unless `overwrite` (which deletes it). */
  static create(dir: string, run: CommunityRunConfig, overwrite = false): CommunityRunDir {
    const r = new CommunityRunDir(dir);
    if (existsSync(r.configPath)) {
      if (!overwrite) throw new Error(`${dir} already holds a run: resume it, overwrite it, or choose another folder`);
      rmSync(dir, { recursive: true, force: true });
    }
    mkdirSync(dir, { recursive: true });
    r.writeConfig(run);
    return r;
  }

  /** The run in `dir`, to resume or evaluate: puts back a checkpoint/ or model/ a crash left half-replaced. */
  static open(dir: string): CommunityRunDir {
    const r = new CommunityRunDir(dir);
    r.readConfig();
    recoverDir(r.checkpoint);
    recoverDir(r.model);
    return r;
  }

  readConfig(): CommunityRunConfig {
    if (!existsSync(this.configPath)) throw new Error(`${this.dir} is not a community run folder: it has no config.json`);
    const run = JSON.parse(readFileSync(this.configPath, 'utf8')) as CommunityRunConfig;
    if (run.format !== COMMUNITY_RUN_FORMAT) throw new Error(`${this.configPath}: not a community run (format ${String(run.format)}; a single home's run is evaluated by rescoin evaluate)`);
    return run;
  }

  writeConfig(run: CommunityRunConfig): void {
    writeFileAtomic(this.configPath, `${JSON.stringify(run, null, 2)}\n`);
  }

  readLoop(): CommunityLoop | null {
    const p = join(this.checkpoint, 'loop.json');
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as CommunityLoop) : null;
  }

  /** Keeps metrics.csv's rows of the episodes before `episodesDone` (the later ones are redone), or starts it. */
  startMetrics(episodesDone: number): void {
    if (!existsSync(this.metricsPath)) return writeFileSync(this.metricsPath, `${COMMUNITY_METRIC_COLUMNS.join(',')}\n`);
    const lines = readFileSync(this.metricsPath, 'utf8').split('\n').filter(Boolean);
    writeFileAtomic(this.metricsPath, `${[lines[0], ...lines.slice(1).filter((l) => Number(l.split(',')[0]) < episodesDone)].join('\n')}\n`);
  }

  appendMetrics(row: readonly (number | string)[]): void {
    appendFileSync(this.metricsPath, `${row.join(',')}\n`);
  }

  async writeCheckpoint(loop: CommunityLoop, save: (dir: string) => Promise<void>): Promise<void> {
    await replaceDir(this.checkpoint, async (tmp) => {
      await save(tmp);
      writeFileSync(join(tmp, 'loop.json'), `${JSON.stringify(loop)}\n`);
    });
  }

  async writeModel(save: (dir: string) => Promise<void>): Promise<void> {
    await replaceDir(this.model, save);
  }
}
