import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { z } from 'zod';
import { describeValue, SLOTS } from '../env/index.js';
import type { PolicyStats } from './stats.js';

/**
 * `report.json`: the machine-readable report of `rescoin evaluate`, the one source of everything the
 * report shows. report.md, days.csv, days.parquet and the plots are drawn from it (render.ts), and
 * `rescoin export` reads a run's figures from it. The schema below is the format's documentation;
 * a change that an older reader would misread raises REPORT_VERSION.
 */

export const REPORT_FORMAT = 'rescoin-evaluation-report';
/** 2: MPC policies, the non-anticipative bound, the gap to the bound and the decision time. */
export const REPORT_VERSION = 2;
export const REPORT_FILE = 'report.json';

const int = z.number().int();
const count = int.nonnegative();
const text = z.string().min(1);
/** One value per slot of the day (kW, or €/kWh for the price). */
const perSlot = z.array(z.number()).length(SLOTS);

/** One day of one policy: the terms of J and the day's figures (env/home.ts DaySummary). */
const dayFigures = z.strictObject({
  score: z.number(),
  cost: z.number(),
  importKwh: z.number(),
  exportKwh: z.number(),
  peakKw: z.number(),
  par: z.number(),
  rescoin: z.number(),
  violations: count,
});

/** Over the days: means, the spread of J, violations summed, and the gap to the MILP optimum. */
const stats = z.strictObject({
  meanScore: z.number(),
  sdScore: z.number(),
  meanCost: z.number(),
  meanPeakKw: z.number(),
  meanPar: z.number(),
  meanRescoin: z.number(),
  /** Σ(J − J*) / Σ(J_asap − J*) in % (stats.ts gapPct). */
  gapPct: z.number(),
  /** Σ(J − LB) / Σ(J_asap − LB) in %, LB the non-anticipative bound; null when evaluated without --bound. */
  gapToBoundPct: z.number().nullable(),
  /** Median compute per decision (one act() call), ms; the MILP's is its solve time per day / 96. */
  decisionMs: z.number().nonnegative(),
  violations: count,
});

const played = z.strictObject({
  name: text,
  /** baseline: a rule (asap, cheapest, precharge); mpc: the MPC baselines; run: a trained run; optimum: the MILP (perfect foresight). */
  kind: z.enum(['baseline', 'mpc', 'run', 'optimum']),
  stats,
  /** days[d] is held-out day d, of seed days.daySeeds[d]. */
  days: z.array(dayFigures),
});

/** One day's non-anticipative bound (baseline/bound.ts boundDay). */
const boundDayFigures = z.strictObject({
  /** The bound, €: the day's J in the gaps to the bound. */
  score: z.number(),
  /** optimal: solved to proof; time-limit: HiGHS's dual bound at the time limit. */
  status: z.enum(['optimal', 'time-limit']),
  mipGap: z.number(),
  solveMs: z.number().nonnegative(),
  /** Trips in the program (0 on a day without a trip, where the bound is J*). */
  samples: count,
  sampled: z.boolean(),
});

/** The non-anticipative bound (--bound): not a played policy, its J of a day is the day's bound. */
const bound = z.strictObject({
  name: z.literal('bound'),
  kind: z.literal('bound'),
  /** Trips drawn per day, the seed of the draws, and the time limit of each solve. */
  samples: count,
  seed: int,
  timeLimitSec: z.number().positive(),
  stats: z.strictObject({ meanScore: z.number(), sdScore: z.number(), gapPct: z.number(), gapToBoundPct: z.number() }),
  days: z.array(boundDayFigures),
});

const policy = z.discriminatedUnion('kind', [played, bound]);

const run = z.strictObject({
  /** The folder as it was given to evaluate, and resolved to an absolute path. */
  dir: text,
  path: text,
  /** The policy it plays as (the folder's name). */
  policy: text,
  algorithm: text,
  seed: int,
  episodes: count,
});

/** One day's schedule under each policy: what schedules-day0.svg draws. */
const schedule = z.strictObject({
  day: count,
  seed: int,
  priceKwh: perSlot,
  baseKw: perSlot,
  pvKw: perSlot,
  /** The appliances' display names, in the order of each policy's applianceKw. */
  appliances: z.array(text),
  ev: z.strictObject({ v2h: z.boolean() }).nullable(),
  policies: z.array(z.strictObject({ name: text, importKw: perSlot, evKw: perSlot, applianceKw: z.array(perSlot) })),
});

export const reportSchema = z
  .strictObject({
    format: z.literal(REPORT_FORMAT),
    version: z.literal(REPORT_VERSION),
    scenario: z.strictObject({ id: text, name: text, hash: text }),
    /** The held-out days: day d is daySeed(seed, d) = daySeeds[d], d = 0 … count − 1. */
    days: z.strictObject({ seed: int, count, daySeeds: z.array(int) }),
    /** The MILP's time limit per day, and the days it did not prove optimal (J* is then the best found). */
    milp: z.strictObject({ timeLimitSec: z.number().positive(), unprovenDays: z.array(count) }),
    runs: z.array(run),
    policies: z.array(policy).min(1),
    schedule: schedule.nullable(),
  })
  .superRefine((r, ctx) => {
    const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: 'custom', path, input, message });
    const n = r.days.count;
    if (r.days.daySeeds.length !== n) issue(['days', 'daySeeds'], r.days.daySeeds, `expected days.count = ${n} seeds, found ${r.days.daySeeds.length}`);
    const names = r.policies.map((p) => p.name);
    r.policies.forEach((p, i) => {
      if (p.days.length !== n) issue(['policies', i, 'days'], p.days, `expected days.count = ${n} days, found ${p.days.length}`);
      if (names.indexOf(p.name) !== i) issue(['policies', i, 'name'], p.name, 'another policy has this name');
    });
    const withBound = r.policies.some((p) => p.kind === 'bound');
    r.policies.forEach((p, i) => {
      if (p.kind !== 'bound' && (p.stats.gapToBoundPct === null) === withBound)
        issue(['policies', i, 'stats', 'gapToBoundPct'], p.stats.gapToBoundPct, withBound ? 'expected a number: the report has a bound' : 'expected null: the report has no bound');
    });
    r.runs.forEach((x, i) => {
      if (!names.includes(x.policy)) issue(['runs', i, 'policy'], x.policy, `expected one of the policies (${names.join(', ')})`);
    });
    const appliances = r.schedule?.appliances.length;
    r.schedule?.policies.forEach((p, i) => {
      if (p.applianceKw.length !== appliances) issue(['schedule', 'policies', i, 'applianceKw'], p.applianceKw.length, `expected one series per appliance (${appliances})`);
    });
  });

export type EvaluationReport = z.infer<typeof reportSchema>;
export type ReportPolicy = EvaluationReport['policies'][number];
/** A played policy of a report (every kind but the bound). */
export type PlayedPolicy = Exclude<ReportPolicy, { kind: 'bound' }>;
export type ReportBound = Extract<ReportPolicy, { kind: 'bound' }>;
export type ReportDay = PlayedPolicy['days'][number];

/** The played policies of a report, in order. */
export const playedPolicies = (r: EvaluationReport): PlayedPolicy[] => r.policies.filter((p): p is PlayedPolicy => p.kind !== 'bound');
/** The report's bound, or null when it was evaluated without --bound. */
export const reportBound = (r: EvaluationReport): ReportBound | null => r.policies.find((p): p is ReportBound => p.kind === 'bound') ?? null;

/** Validates parsed JSON as a report; the error names `where`, each bad field, its value and what was expected. */
export function parseReport(raw: unknown, where = REPORT_FILE): EvaluationReport {
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version !== REPORT_VERSION) throw new Error(`${where}: field version is ${version}, but this rescoin reads evaluation reports of version ${REPORT_VERSION}: run rescoin evaluate again`);
  const res = reportSchema.safeParse(raw, { reportInput: true });
  if (res.success) return res.data;
  const lines = res.error.issues.map((i) => `  field ${i.path.length ? i.path.join('.') : '(root)'}: got ${describeValue(badValue(i), 60)}; ${i.message}`);
  throw new Error(`${where}: not a valid evaluation report\n${lines.join('\n')}`);
}

/** The value an issue is about: zod gives a bad discriminator's whole object, of which only the field is wanted. */
function badValue(i: z.core.$ZodIssue): unknown {
  const input = (i as { input?: unknown }).input;
  const key = (i as { discriminator?: string }).discriminator;
  return key !== undefined && input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[key] : input;
}

/** The report of a report folder (or of a report.json path). */
export function readReport(path: string): EvaluationReport {
  const file = extname(path) === '.json' ? path : join(path, REPORT_FILE);
  if (!existsSync(file)) throw new Error(`${file} does not exist: expected a \`rescoin evaluate\` report folder`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  return parseReport(raw, file);
}

/**
 * Writes a file through a temporary one beside it and a rename, so that a reader never sees half a
 * file. `write` gets the temporary path, which ends in the same extension (writePlot picks the format by it).
 */
export async function writeAtomic(path: string, write: (tmp: string) => void | Promise<void>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp${extname(path)}`);
  try {
    await write(tmp);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Indented JSON with each array of numbers on one line: a per-slot series reads as one row. */
const stringify = (value: unknown): string => JSON.stringify(value, null, 1).replace(/\[\s*(-?\d[^[\]{}"]*?)\s*\]/g, (_, inner: string) => `[${inner.replace(/\s+/g, '')}]`);

/** report.json, validated first: a report that its own reader would refuse is never written. */
export async function writeReport(dir: string, report: EvaluationReport): Promise<string> {
  const path = join(dir, REPORT_FILE);
  const valid = parseReport(JSON.parse(JSON.stringify(report)), path);
  await writeAtomic(path, (tmp) => writeFileSync(tmp, `${stringify(valid)}\n`));
  return path;
}

/** Each policy's stats with its name, as evaluate returns them. */
export function reportStats(report: EvaluationReport): PolicyStats[] {
  return playedPolicies(report).map((p) => ({ name: p.name, ...p.stats }));
}

/** A run's figures in a report (its policy is named after the run folder), as export's policy.json `evaluation` holds them; null when the report has no such policy. */
export function runFigures(r: EvaluationReport, policy: string) {
  const p = playedPolicies(r).find((x) => x.name === policy);
  if (!p) return null;
  const { meanScore, meanCost, meanPeakKw, meanRescoin, violations, gapPct } = p.stats;
  return { policy, days: r.days.count, daySeeds: r.days.daySeeds, meanScore, meanCost, meanPeakKw, meanRescoin, violations, gapPct };
}

/**
 * The newest report under `reportsDir` (by its report.json's time) that evaluated the run folder
 * `runDir` (runs[].path, resolved at evaluation), or null. Reports that do not read (an older
 * version, a broken file) are passed over: one stale report must not hide the others.
 */
export function newestReportOf(runDir: string, reportsDir: string): { dir: string; report: EvaluationReport } | null {
  if (!existsSync(reportsDir)) return null;
  const path = resolve(runDir);
  const found = readdirSync(reportsDir)
    .map((d) => join(reportsDir, d))
    .filter((dir) => existsSync(join(dir, REPORT_FILE)))
    .map((dir) => ({ dir, report: readIfValid(dir), time: statSync(join(dir, REPORT_FILE)).mtimeMs }))
    .filter((x): x is { dir: string; report: EvaluationReport; time: number } => x.report?.runs.some((r) => r.path === path) ?? false)
    .sort((a, b) => b.time - a.time);
  return found.length ? { dir: found[0].dir, report: found[0].report } : null;
}

function readIfValid(dir: string): EvaluationReport | null {
  try {
    return readReport(dir);
  } catch {
    return null;
  }
}
