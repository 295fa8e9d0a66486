import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SLOTS, type DayLog } from '../env/index.js';
import { sha256Hex, HEX64 } from './canonical.js';
import { toMicroRsc } from './amount.js';
import { OPERATOR } from './keys.js';
import { LedgerError } from './errors.js';
import type { Ledger } from './store.js';
import type { Block } from './ledger.js';

/**
 * From an evaluation report to mints: `rescoin evaluate` writes payouts.json (each policy's RSC and
 * meter-data hash per day), and `mintPayouts` mints one policy's days to a prosumer. The amounts are
 * `toMicroRsc(rescoin)` of the environment's own score (env/score.ts), so the ledger pays exactly
 * what the reward and the MILP objective count.
 */

export const PAYOUTS_FILE = 'payouts.json';
export const PAYOUTS_FORMAT = 'rescoin-payouts/1';
/** The meter data a mint pays for, as hashed by meterSha256. */
export const METER_BYTES = 'SHA-256 of importKw, exportKw, pvKw of the day, 96 IEEE-754 float64 little-endian each, in that order (2,304 bytes)';
/** Policies that are baselines of a report, not the prosumer's agent. */
export const BASELINE_POLICIES = ['asap', 'cheapest', 'precharge', 'mpc', 'mpc-scenarios', 'milp'];

export interface DayPayout {
  /** Index of the day in the evaluation (day d of its seed). */
  day: number;
  /** The day's seed: drawDay(scenario, seed) draws it again. */
  seed: number;
  /** RSC of the day (env score's `rescoin`). */
  rescoin: number;
  meterSha256: string;
}

export interface PayoutsFile {
  format: typeof PAYOUTS_FORMAT;
  scenario: string;
  /** The evaluation's seed K: day d is daySeed(K, d). */
  seed: number;
  meter: string;
  policies: { name: string; days: DayPayout[] }[];
}

/**
 * The meter data of a day, as canonical bytes: what the smart meter reports (grid import, grid
 * export) and the PV production, slot by slot. Little-endian is written explicitly so that the hash
 * is the same on every machine.
 */
export function meterBytes(log: Pick<DayLog, 'importKw' | 'exportKw'> & { day: { pvKw: ArrayLike<number> } }): Buffer {
  const buf = Buffer.alloc(3 * SLOTS * 8);
  const series = [log.importKw, log.exportKw, log.day.pvKw];
  series.forEach((xs, k) => {
    if (xs.length !== SLOTS) throw new Error(`meter data: expected ${SLOTS} slots, got ${xs.length}`);
    for (let t = 0; t < SLOTS; t++) buf.writeDoubleLE(xs[t], (k * SLOTS + t) * 8);
  });
  return buf;
}

export function meterSha256(log: Parameters<typeof meterBytes>[0]): string {
  return sha256Hex(meterBytes(log));
}

/** The payout record of a played day. */
export function dayPayout(day: number, seed: number, rescoin: number, log: Parameters<typeof meterBytes>[0]): DayPayout {
  return { day, seed, rescoin, meterSha256: meterSha256(log) };
}

export function writePayouts(dir: string, file: PayoutsFile): string {
  const path = join(dir, PAYOUTS_FILE);
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  return path;
}

/** Read and check a report's payouts.json. */
export function readPayouts(reportDir: string): PayoutsFile {
  const path = join(reportDir, PAYOUTS_FILE);
  if (!existsSync(path)) throw new LedgerError(`report: ${path} does not exist (reports written by rescoin evaluate have it; evaluate again to make one)`, 'report');
  let x: PayoutsFile;
  try {
    x = JSON.parse(readFileSync(path, 'utf8')) as PayoutsFile;
  } catch (e) {
    throw new LedgerError(`report: ${path} does not parse: ${(e as Error).message}`, 'report');
  }
  if (x?.format !== PAYOUTS_FORMAT || !Array.isArray(x.policies)) throw new LedgerError(`report: ${path} is not a ${PAYOUTS_FORMAT} file (format ${JSON.stringify(x?.format)})`, 'report');
  for (const p of x.policies)
    for (const d of p.days)
      if (!Number.isSafeInteger(d.day) || !Number.isSafeInteger(d.seed) || !Number.isFinite(d.rescoin) || d.rescoin < 0 || !HEX64.test(d.meterSha256))
        throw new LedgerError(`report: ${path}, policy ${p.name}: bad day record ${JSON.stringify(d)}`, 'report');
  return x;
}

/**
 * The report policy to pay: the one asked for, else the first that is not a baseline (the
 * prosumer's agent). Throws naming the choices.
 */
export function choosePolicy(names: readonly string[], asked?: string): string {
  if (asked !== undefined) {
    if (!names.includes(asked)) throw new LedgerError(`policy: the report has no policy "${asked}" (policies: ${names.join(', ')})`, 'policy');
    return asked;
  }
  const agent = names.find((n) => !BASELINE_POLICIES.includes(n));
  if (agent === undefined) throw new LedgerError(`policy: the report has only baseline policies (${names.join(', ')}): say which to pay`, 'policy');
  return agent;
}

/** The prosumer to pay: the one named, else the ledger's only prosumer. */
export function chooseProsumer(ledger: Ledger, asked?: string): string {
  const prosumers = ledger.prosumers();
  const fail = (why: string) => new LedgerError(`to: ${why}`, 'to');
  if (asked !== undefined) {
    if (asked === OPERATOR) throw fail(`the operator holds no RESCoin; name a prosumer (${prosumers.join(', ') || 'none yet'})`);
    if (!prosumers.includes(asked)) throw fail(`unknown account "${asked}" (prosumers: ${prosumers.join(', ') || 'none'}; register one in ${ledger.dir} first: Ledger.register, rescoin ledger keygen)`);
    return asked;
  }
  if (prosumers.length === 1) return prosumers[0];
  if (prosumers.length === 0) throw fail(`the ledger ${ledger.dir} has no prosumer account yet (Ledger.register, rescoin ledger keygen)`);
  throw fail(`the ledger has several prosumers (${prosumers.join(', ')}): say which to pay`);
}

export interface MintResult {
  policy: string;
  to: string;
  /** Days minted: amount in µRSC. */
  minted: { day: number; seed: number; amount: number }[];
  /** Days with nothing to pay (0 µRSC). */
  skipped: number[];
  /** µRSC in all. */
  total: number;
  block: Block | null;
}

/**
 * Mint one policy's days of a report to a prosumer, all in one block: one mint per day, reason
 * "evaluate REPORT policy P day D seed S", the day's meter hash. All or nothing: a refused day (for
 * instance meter data already paid) refuses the whole report and names the day.
 */
export function mintPayouts(ledger: Ledger, payouts: PayoutsFile, o: { report: string; policy?: string; to?: string }): MintResult {
  const policy = choosePolicy(
    payouts.policies.map((p) => p.name),
    o.policy,
  );
  const to = chooseProsumer(ledger, o.to);
  const days = payouts.policies.find((p) => p.name === policy)!.days;
  const report = o.report.replaceAll('\\', '/').replace(/\/+$/, '');
  const minted: MintResult['minted'] = [];
  const skipped: number[] = [];
  for (const d of days) {
    const amount = toMicroRsc(d.rescoin);
    if (amount <= 0) {
      skipped.push(d.day);
      continue;
    }
    try {
      ledger.submit(ledger.signMint({ to, amount, reason: `evaluate ${report} policy ${policy} day ${d.day} seed ${d.seed}`, day: d.day, seed: d.seed, meterSha256: d.meterSha256 }));
    } catch (e) {
      ledger.discard();
      throw new LedgerError(`day ${d.day} (seed ${d.seed}) of ${report}, policy ${policy}: ${(e as Error).message}; nothing was minted`);
    }
    minted.push({ day: d.day, seed: d.seed, amount });
  }
  const block = ledger.commit();
  return { policy, to, minted, skipped, total: minted.reduce((a, m) => a + m.amount, 0), block };
}
