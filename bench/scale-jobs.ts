import type { JobHandler } from '../evaluation/jobs.js';

/** A job that does nothing (bench/scale.ts): what is left of its time is the runner's own cost. */
export const empty: JobHandler<{ k: number }, { k: number }> = async (input) => input;
