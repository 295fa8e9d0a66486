import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flatCodec, loadScenario, makeEnv, noManagementAction, SLOTS, VectorHomeEnv } from '../../env/index.js';
import { mpcPolicy } from '../../baseline/index.js';
import { train } from '../../training/train.js';
import { LabelCache, playsTeacher, Teacher } from '../../training/teacher.js';
import { TeacherPool } from '../../training/teacher-pool.js';
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';

/** The worker thread's script, bundled from its TypeScript (a worker cannot run .ts); beside node_modules, whose packages it imports. */
async function workerScript(): Promise<URL> {
  const out = join(root, 'node_modules', '.cache', 'rescoin-test', 'teacher-worker.mjs');
  await build({ entryPoints: [join(root, 'training', 'teacher-worker.ts')], bundle: true, format: 'esm', platform: 'node', packages: 'external', outfile: out, logLevel: 'warning' });
  return pathToFileURL(out);
}

const paper = loadScenario('paper-apartment');
const root = join(import.meta.dirname, '..', '..');
const cli = [join(root, 'node_modules', 'vite-node', 'vite-node.mjs'), join(root, 'cli', 'bin.ts')];
const tmp = () => mkdtempSync(join(tmpdir(), 'rescoin-teacher-'));
const metricRows = (dir: string) =>
  readFileSync(join(dir, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').slice(0, -1));

/** A small DQN that learns from the MPC: 2 homes a round, labels from the first slot on. */
const overrides = (over: Record<string, unknown> = {}) => ({ teacher: 'mpc', numEnvs: 2, hidden: [16], learningStarts: 0, batchSize: 16, validateEvery: 0, ...over });

describe('the DAgger teacher (training/teacher.ts)', () => {
  it("labels the learner's own states with the MPC's action there, not the MPC's own day", async () => {
    const codec = flatCodec(paper);
    const env = new VectorHomeEnv(paper, 2);
    env.reset(11);
    const teacher = new Teacher(paper, 2, 1e-4);
    await teacher.startDay();
    const day0 = env.homes[0].day;
    // The learner plays "no management" on both homes, which the MPC would not.
    const learner = new Int32Array(2 * env.nComponents);
    const labels: number[][] = [[], []];
    const learnerPlays: number[][] = [[], []];
    for (let t = 0; t < SLOTS; t++) {
      for (let i = 0; i < 2; i++) {
        labels[i].push(teacher.label(i, env, codec));
        const a = learner.subarray(i * env.nComponents, (i + 1) * env.nComponents);
        noManagementAction(env.view(i), a);
        learnerPlays[i].push(codec.flatten(a));
        // Every label is an action the learner's state allows.
        expect(codec.flatMask(env.view(i))[labels[i][t]]).toBe(1);
        teacher.played(i, a);
      }
      env.step(learner);
    }
    // The labels are the MPC's, not the learner's: they disagree somewhere on each home.
    for (let i = 0; i < 2; i++) expect(labels[i].some((l, t) => l !== learnerPlays[i][t])).toBe(true);
    // And they are what an MPC told the same history decides: a fresh one replayed on home 0's day.
    const env0 = makeEnv(paper);
    let { observation, info } = env0.reset({ options: { day: day0 } });
    const mpc = mpcPolicy(paper);
    await mpc.reset?.(info);
    for (let t = 0; t < SLOTS; t++) {
      expect(codec.flatten(mpc.act(observation, info))).toBe(labels[0][t]);
      const a = codec.unflatten(learnerPlays[0][t]);
      mpc.played?.(a);
      ({ observation, info } = env0.step(a));
    }
  });

  it('labels the same on one thread and on worker threads (replica homes)', async () => {
    const codec = flatCodec(paper);
    const run = async (pool: TeacherPool) => {
      const env = new VectorHomeEnv(paper, 3);
      env.reset(5, 1);
      await pool.startDay(5, 1);
      const all: number[] = [];
      const acts = new Int32Array(3 * env.nComponents);
      const labels = new Int32Array(3);
      for (let t = 0; t < SLOTS; t++) {
        all.push(...(await pool.labels(env, codec, labels)));
        // The learner plays the label on home 0 and "no management" on the others.
        for (let i = 0; i < 3; i++) {
          const a = acts.subarray(i * env.nComponents, (i + 1) * env.nComponents);
          if (i === 0) a.set(codec.unflatten(labels[0]));
          else noManagementAction(env.view(i), a);
        }
        env.step(acts);
        pool.played(acts, env.nComponents);
      }
      await pool.close();
      return all;
    };
    const one = await run(new TeacherPool(paper, 3, 1e-4, 1, null));
    const pool = new TeacherPool(paper, 3, 1e-4, 2, await workerScript());
    expect(pool.threads).toBe(2);
    expect(await run(pool)).toEqual(one);
  }, 300_000);

  it('β mixes by a hash of (seed, episode, slot): the same on every call, about β of the home-slots', () => {
    let teacher = 0;
    for (let e = 0; e < 100; e++) for (let t = 0; t < SLOTS; t++) teacher += playsTeacher(3, e, t, 0.3) ? 1 : 0;
    expect(teacher / 9600).toBeGreaterThan(0.27);
    expect(teacher / 9600).toBeLessThan(0.33);
    expect(playsTeacher(3, 17, 40, 0.3)).toBe(playsTeacher(3, 17, 40, 0.3));
    expect(playsTeacher(3, 17, 40, 1)).toBe(true);
    expect(playsTeacher(3, 17, 40, 0)).toBe(false);
  });

  it('same seed, same metrics; a resumed run reads the labels a crashed run cached and solves none again', async () => {
    const whole = join(tmp(), 'whole');
    const parts = join(tmp(), 'parts');
    const o = { scenario: paper, algorithm: 'dqn' as const, episodes: 6, seed: 2, resume: false, overrides: overrides({ betaStart: 0.5, betaEnd: 0 }) };
    const r = await train({ ...o, out: whole });
    expect(r.teacherDays).toBe(6);
    expect(readdirSync(join(whole, 'teacher')).sort()).toEqual(['round-000000.bin', 'round-000001.bin', 'round-000002.bin']);
    await train({ ...o, out: parts, stopAfter: 2 });
    // As if the stopped run had labelled rounds 1 and 2 and crashed before checkpointing them.
    mkdirSync(join(parts, 'teacher'), { recursive: true });
    for (const f of ['round-000001.bin', 'round-000002.bin']) copyFileSync(join(whole, 'teacher', f), join(parts, 'teacher', f));
    const resumed = await train({ ...o, out: parts, resume: true });
    expect(resumed.teacherDays).toBe(0);
    expect(resumed.cachedTeacherDays).toBe(4);
    expect(metricRows(parts)).toEqual(metricRows(whole));
    const labels = new LabelCache(whole).read(0, 2)!;
    expect(labels).toHaveLength(2 * SLOTS);
  }, 300_000);

  it('a killed run with a teacher resumes: no episode lost or repeated', async () => {
    const dir = join(tmp(), 'killed');
    const config = join(tmp(), 'config.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(config, JSON.stringify(overrides())));
    const args = [...cli, 'train', '--teacher', 'mpc', '--config', config, '--episodes', '10', '--seed', '6', '--out', dir, '--checkpoint-minutes', '0.003', '--no-progress'];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    for (let k = 0; k < 1200; k++) {
      await new Promise((r) => setTimeout(r, 100));
      if (existsSync(join(dir, 'checkpoint', 'loop.json')) && existsSync(join(dir, 'metrics.csv')) && metricRows(dir).length >= 4) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(metricRows(dir).length).toBeLessThan(10);
    const resumed = spawn(process.execPath, [...cli, 'train', '--out', dir, '--resume', '--episodes', '10', '--no-progress'], { stdio: 'ignore' });
    expect(await new Promise((r) => resumed.once('exit', r))).toBe(0);
    expect(metricRows(dir).map((x) => Number(x[0]))).toEqual(Array.from({ length: 10 }, (_, e) => e));
  }, 300_000);
});
