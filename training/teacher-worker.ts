import { parentPort, workerData } from 'node:worker_threads';
import { flatCodec, SLOTS, VectorHomeEnv, type Scenario } from '../env/index.js';
import { Teacher } from './teacher.js';

/**
 * A worker thread of the teacher pool (teacher-pool.ts): it keeps a replica of the training homes,
 * stepped with the actions the main thread played, and labels its share of them. The replica is
 * exact because a home is a deterministic function of its day and its actions.
 */

export interface TeacherWorkerData {
  scenario: Scenario;
  n: number;
  mipRelGap: number;
  homes: number[];
}

/** Main → worker: start round `round` of run seed `seed`, or play `actions` (n × components) and label the next slot. */
export type TeacherRequest = { type: 'start'; seed: number; round: number } | { type: 'step'; actions: Int32Array };
/** Worker → main: the labels of its homes at `slot` (the other entries unset), or an error's message. */
export type TeacherReply = { slot: number; labels: Int32Array } | { error: string };

const { scenario, n, mipRelGap, homes } = workerData as TeacherWorkerData;
const env = new VectorHomeEnv(scenario, n);
const codec = flatCodec(scenario);
const teacher = new Teacher(scenario, n, mipRelGap, homes);
let slot = 0;

function reply(): TeacherReply {
  const labels = new Int32Array(n);
  if (slot < SLOTS) teacher.labelHomes(env, codec, labels);
  return { slot, labels };
}

parentPort!.on('message', (m: TeacherRequest) => {
  void (async () => {
    try {
      if (m.type === 'start') {
        env.reset(m.seed, m.round);
        slot = 0;
        await teacher.startDay();
      } else {
        teacher.playedAll(m.actions, env.nComponents);
        env.step(m.actions);
        slot++;
      }
      parentPort!.postMessage(reply());
    } catch (e) {
      parentPort!.postMessage({ error: (e as Error).stack ?? String(e) } satisfies TeacherReply);
    }
  })();
});
