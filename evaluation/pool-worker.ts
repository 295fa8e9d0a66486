import { executeJob, type Job } from './jobs.js';

/**
 * A thread of the local pool (pool.ts): it runs the jobs it is given through executeJob, one at a
 * time. What a job's module loads (a scenario, HiGHS, tfjs) stays loaded in the thread for the next
 * job: module state is per thread. A time limit stops the whole thread (piscina ends it on abort), the
 * only way to stop a synchronous solve.
 */
export default function runJob(job: Job): Promise<unknown> {
  return executeJob(job);
}
