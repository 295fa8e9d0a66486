import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Scenario, VectorEnv } from '../env/index.js';
import type { ActionCodec } from '../runtime/index.js';
import { Teacher } from './teacher.js';
import type { TeacherReply, TeacherRequest, TeacherWorkerData } from './teacher-worker.js';

/**
 * The teacher's MPCs spread over threads: the homes are dealt round-robin to `threads` shares, the
 * first labelled in this thread, each other one in a worker (teacher-worker.ts) that replicates the
 * homes. A worker labels slot t + 1 while this thread learns from slot t, and the labels are the
 * same whatever the number of threads: each MPC sees the same calls in the same order.
 */

/** The worker's script: the compiled teacher-worker.js beside this file. Run from TypeScript sources (tests), there is none: one thread. */
const defaultWorkerUrl = (): URL | null => (import.meta.url.endsWith('.ts') ? null : new URL('./teacher-worker.js', import.meta.url));

interface Remote {
  worker: Worker;
  homes: number[];
  pending: Promise<TeacherReply> | null;
}

export class TeacherPool {
  /** The MPCs and the worker threads, made at the first startDay: a run whose labels are all cached, or past the teacher's days, starts none. */
  private started: { local: Teacher; remotes: Remote[] } | null = null;
  /** Threads labelling (this one included). */
  readonly threads: number;

  /** threads 0: one per core, at most one per home. */
  constructor(
    private readonly scenario: Scenario,
    private readonly n: number,
    private readonly mipRelGap: number,
    threads = 0,
    private readonly workerUrl: URL | null = defaultWorkerUrl(),
  ) {
    const wanted = threads > 0 ? threads : availableParallelism();
    this.threads = workerUrl ? Math.max(1, Math.min(n, wanted)) : 1;
  }

  private start(): { local: Teacher; remotes: Remote[] } {
    const { scenario, n, mipRelGap } = this;
    const shares = Array.from({ length: this.threads }, (_, k) => Array.from({ length: n }, (_, i) => i).filter((i) => i % this.threads === k));
    const remotes = shares.slice(1).map((homes): Remote => {
      const data: TeacherWorkerData = { scenario, n, mipRelGap, homes };
      const worker = new Worker(this.workerUrl!, { workerData: data });
      worker.unref();
      return { worker, homes, pending: null };
    });
    return { local: new Teacher(scenario, n, mipRelGap, shares[0]), remotes };
  }

  private get parts(): { local: Teacher; remotes: Remote[] } {
    return (this.started ??= this.start());
  }

  private send(r: Remote, m: TeacherRequest): void {
    r.pending = new Promise<TeacherReply>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      r.worker.once('error', onError);
      r.worker.once('message', (reply: TeacherReply) => {
        r.worker.off('error', onError);
        resolve(reply);
      });
    });
    r.worker.postMessage(m);
  }

  private async receive(r: Remote): Promise<Int32Array> {
    const reply = await r.pending!;
    r.pending = null;
    if ('error' in reply) throw new Error(`teacher worker (homes ${r.homes.join(', ')}): ${reply.error}`);
    return reply.labels;
  }

  /** Start round `round` of run seed `seed`: every home's first day of it (VectorHomeEnv.reset). */
  async startDay(seed: number, round: number): Promise<void> {
    const { local, remotes } = this.parts;
    for (const r of remotes) if (r.pending) await this.receive(r);
    for (const r of remotes) this.send(r, { type: 'start', seed, round });
    await local.startDay();
  }

  /** Every home's label now (flat actions, into out). */
  async labels(env: VectorEnv, codec: ActionCodec, out: Int32Array): Promise<Int32Array> {
    const { local, remotes } = this.parts;
    local.labelHomes(env, codec, out);
    for (const r of remotes) {
      const labels = await this.receive(r);
      for (const i of r.homes) out[i] = labels[i];
    }
    return out;
  }

  /** What every home played (n × components); the workers step their replicas and label the next slot. */
  played(actions: Int32Array, nComponents: number): void {
    const { local, remotes } = this.parts;
    local.playedAll(actions, nComponents);
    for (const r of remotes) this.send(r, { type: 'step', actions: actions.slice() });
  }

  async close(): Promise<void> {
    if (this.started) await Promise.all(this.started.remotes.map((r) => r.worker.terminate()));
  }
}
