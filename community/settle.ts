import type { DayLog } from '../env/index.js';
import { checkAccountName, formatRsc, generateKeyPair, LedgerError, loadPublicKeyHex, meterSha256, publicKeyHex, readBlocks, saveKeyPair, sha256Hex, toMicroRsc, verifyLedger, type Block, type Ledger } from '../ledger/index.js';
import type { Community } from './community.js';
import { billParts, internalMicroRsc, microRscToEur, pairwiseTransfers, type MarketFlows } from './settle-plan.js';

/**
 * # Settling community days on the ledger (docs/community-settlement.md)
 *
 * One community day is one block, written by the operator:
 * 1. `account` registrations of the homes not on the ledger yet (account name = home id; the key
 *    pair is written to keys/ as `rescoin ledger keygen` does);
 * 2. payouts: one operator mint per home with RSC > 0, reason `community-payout <community> day D
 *    seed S`, meterSha256 = the home's meter hash (ledger/payouts.ts), so the same meter data is never
 *    paid twice;
 * 3. per net payer, in home order: a `deposit` mint for exactly its shortfall when its balance is
 *    below what it must pay (it buys coin from the operator with € at the coin value; the € side is
 *    off-chain), then its transfers to the net receivers (settle-plan.ts), memo `community
 *    <community> day D seed S: …`.
 * The chain then holds each home's internal part of the bill; `replayBills` reads it back.
 */

/** What settling needs of a CommunityDayLog (community-api.md); a CommunityDayLog is one. */
export interface SettleableDay extends MarketFlows {
  /** The community day's seed (drawCommunityDay). */
  seed: number;
  /** Per home, the meter data that its payout pays for. */
  homes: readonly (Pick<DayLog, 'importKw' | 'exportKw'> & { day: { pvKw: ArrayLike<number> } })[];
  /** The day's summary (the day played to its end): each home's RSC. */
  summary?: { homes: readonly { id: string; rescoin: number }[] };
}

export interface SettledTransfer {
  from: string;
  to: string;
  /** µRSC. */
  amount: number;
  memo: string;
}

export interface SettledMint {
  to: string;
  /** µRSC. */
  amount: number;
  reason: string;
  meterSha256: string;
}

export interface SettledHome {
  id: string;
  /** The market bill Σ_t paymentEur, €. */
  billEur: number;
  /** What the home's grid share costs at the grid's prices, €: paid to the grid, off-chain. */
  gridEur: number;
  /** billEur − gridEur: paid to (> 0) or received from (< 0) the neighbours, €. */
  internalEur: number;
  /** The internal part on the ledger: µRSC sent − received in the day's transfers. */
  internalMicroRsc: number;
  /** The day's payout, µRSC (0: no mint). */
  payoutMicroRsc: number;
  /** RSC bought from the operator to cover the transfers, µRSC (0: none). */
  depositMicroRsc: number;
}

export interface Settlement {
  community: string;
  day: number;
  seed: number;
  /** The day's block; null when there was nothing to write (no payout, no trade, no new account). */
  height: number | null;
  accounts: string[];
  mints: SettledMint[];
  deposits: SettledMint[];
  transfers: SettledTransfer[];
  perHome: SettledHome[];
}

/** The words every transaction of a settled community day starts with, after its kind. */
const dayTag = (c: string, day: number, seed: number) => `${c} day ${day} seed ${seed}`;
const PAYOUT = 'community-payout';
const DEPOSIT = 'deposit';
const TRANSFER = 'community';

/** The community-day transaction a tx belongs to: { kind, day, seed }, or null. */
function tagOf(text: string, communityId: string): { kind: string; day: number; seed: number } | null {
  const m = /^(\S+) (\S+) day (\d+) seed (\d+)(?::|$)/.exec(text);
  if (!m || m[2] !== communityId || ![PAYOUT, DEPOSIT, TRANSFER].includes(m[1])) return null;
  return { kind: m[1], day: Number(m[3]), seed: Number(m[4]) };
}

function txText(tx: Block['txs'][number]): string | null {
  return tx.type === 'mint' ? tx.reason : tx.type === 'transfer' ? tx.memo : null;
}

/** The block that settled community day `seed`, or null. */
function settledIn(blocks: readonly Block[], communityId: string, seed: number): number | null {
  for (const b of blocks)
    for (const tx of b.txs) {
      const text = txText(tx);
      if (text !== null && tagOf(text, communityId)?.seed === seed) return b.height;
    }
  return null;
}

/** Account registrations for the homes the ledger lacks, reusing a key pair already in keys/. */
function registerMissing(ledger: Ledger, ids: readonly string[]): string[] {
  const added: string[] = [];
  for (const id of ids) {
    if (ledger.has(id)) continue;
    let pub = loadPublicKeyHex(ledger.dir, id);
    if (pub === null) {
      const pair = generateKeyPair();
      saveKeyPair(ledger.dir, id, pair);
      pub = publicKeyHex(pair.publicKey);
    }
    ledger.submit(ledger.signAccount(id, pub));
    added.push(id);
  }
  return added;
}

function checkDay(c: Community, log: SettleableDay, dayIndex: number): { id: string; rescoin: number }[] {
  const n = c.homes.length;
  if (!Number.isSafeInteger(dayIndex) || dayIndex < 0) throw new LedgerError(`day: must be an integer ≥ 0, got ${dayIndex}`, 'day');
  if (!Number.isSafeInteger(log.seed) || log.seed < 0) throw new LedgerError(`seed: the day's seed must be an integer ≥ 0, got ${log.seed}`, 'seed');
  if (log.homes.length !== n) throw new LedgerError(`the log has ${log.homes.length} homes, community ${c.id} has ${n}`);
  const s = log.summary?.homes;
  if (!s) throw new LedgerError(`community ${c.id} day ${dayIndex} (seed ${log.seed}): the log has no summary; play the day to its end before settling it`);
  c.homes.forEach((h, i) => {
    checkAccountName(h.id, `homes[${i}].id`);
    if (s[i]?.id !== h.id) throw new LedgerError(`the log's home ${i} is "${s[i]?.id}", community ${c.id}'s is "${h.id}"`);
  });
  return s.map(({ id, rescoin }) => ({ id, rescoin }));
}

/**
 * Settle one played community day as one block (see the header). All or nothing: a refused
 * transaction (a day already settled, meter data already paid, …) leaves the chain as it was.
 */
export function settleCommunityDay(ledger: Ledger, community: Community, log: SettleableDay, dayIndex: number): Settlement {
  const c = community;
  const homes = checkDay(c, log, dayIndex);
  if (ledger.pendingCount) throw new LedgerError('settle: the ledger has transactions pending; commit() them first');
  const done = settledIn(readBlocks(ledger.dir), c.id, log.seed);
  if (done !== null) throw new LedgerError(`community ${c.id}: day seed ${log.seed} is already settled in block ${done}; a community day is paid once`);
  const ids = homes.map((h) => h.id);
  const parts = billParts(ids.length, log, c.buyPriceKwh, c.sellPriceKwh);
  const micro = internalMicroRsc(
    parts.map((p) => p.internalEur),
    c.rscValueEur,
  );
  const plan = pairwiseTransfers(micro);
  const tag = dayTag(c.id, dayIndex, log.seed);
  const mints: SettledMint[] = [];
  const deposits: SettledMint[] = [];
  const transfers: SettledTransfer[] = [];
  const payout = homes.map((h) => toMicroRsc(h.rescoin));
  const deposit = homes.map(() => 0);
  let block: Block | null;
  try {
    const accounts = registerMissing(ledger, ids);
    ids.forEach((to, i) => {
      if (payout[i] <= 0) return;
      const m = { to, amount: payout[i], reason: `${PAYOUT} ${tag}`, meterSha256: meterSha256(log.homes[i]) };
      ledger.submit(ledger.signMint({ ...m, day: dayIndex, seed: log.seed }));
      mints.push(m);
    });
    ids.forEach((from, i) => {
      const mine = plan.filter((p) => p.from === i);
      if (!mine.length) return;
      const short = mine.reduce((a, p) => a + p.amount, 0) - ledger.balance(from);
      if (short > 0) {
        const reason = `${DEPOSIT} ${tag}: ${from} buys ${formatRsc(short)} RSC from the operator with € at ${c.rscValueEur} €/RSC to pay its neighbours`;
        const m = { to: from, amount: short, reason, meterSha256: sha256Hex(`deposit ${c.id} ${log.seed} ${from}`) };
        ledger.submit(ledger.signMint({ ...m, day: dayIndex, seed: log.seed }));
        deposits.push(m);
        deposit[i] = short;
      }
      for (const p of mine) {
        const t = { from, to: ids[p.to], amount: p.amount, memo: `${TRANSFER} ${tag}: ${from} pays ${ids[p.to]} for energy traded in the ${c.market} market (internal part of the bill, netted over the day, split pro rata over the net receivers)` };
        ledger.submit(ledger.signTransfer(t));
        transfers.push(t);
      }
    });
    block = ledger.commit();
    const perHome = ids.map((id, i) => ({ id, ...parts[i], internalMicroRsc: micro[i], payoutMicroRsc: payout[i] > 0 ? payout[i] : 0, depositMicroRsc: deposit[i] }));
    return { community: c.id, day: dayIndex, seed: log.seed, height: block?.height ?? null, accounts, mints, deposits, transfers, perHome };
  } catch (e) {
    if (ledger.pendingCount) ledger.discard();
    throw e;
  }
}

export interface ReplayedHome {
  id: string;
  /** µRSC sent − received in the day's transfers: the internal part of its bill. */
  internalMicroRsc: number;
  /** The same at the coin value, €. */
  internalEur: number;
  payoutMicroRsc: number;
  depositMicroRsc: number;
}

export interface ReplayedDay {
  day: number;
  seed: number;
  /** The block that holds the day. */
  height: number;
  homes: ReplayedHome[];
}

/**
 * Read a ledger folder's settled days of `community` back from the chain: each home's internal part
 * (sent − received), payout and deposit, per day, in chain order. The chain is verified first
 * (verifyLedger), so only checked transactions are counted; throws naming the first bad block.
 */
export function replayBills(ledgerDir: string, community: Community): ReplayedDay[] {
  const v = verifyLedger(ledgerDir);
  if (!v.ok) throw new LedgerError(`${ledgerDir}: the chain does not verify: ${v.reason}`);
  const index = new Map(community.homes.map((h, i) => [h.id, i]));
  const days = new Map<number, ReplayedDay>();
  const home = (d: ReplayedDay, name: string) => {
    const i = index.get(name);
    if (i === undefined) throw new LedgerError(`block ${d.height}: "${name}" is not a home of community ${community.id}`);
    return d.homes[i];
  };
  for (const b of readBlocks(ledgerDir))
    for (const tx of b.txs) {
      const text = txText(tx);
      const tag = text === null ? null : tagOf(text, community.id);
      if (!tag || tx.type === 'account') continue;
      let d = days.get(tag.seed);
      if (!d) {
        d = { day: tag.day, seed: tag.seed, height: b.height, homes: community.homes.map((h) => ({ id: h.id, internalMicroRsc: 0, internalEur: 0, payoutMicroRsc: 0, depositMicroRsc: 0 })) };
        days.set(tag.seed, d);
      }
      if (tx.type === 'transfer') {
        home(d, tx.from).internalMicroRsc += tx.amount;
        home(d, tx.to).internalMicroRsc -= tx.amount;
      } else if (tag.kind === PAYOUT) home(d, tx.to).payoutMicroRsc += tx.amount;
      else home(d, tx.to).depositMicroRsc += tx.amount;
    }
  const out = [...days.values()];
  for (const d of out) for (const h of d.homes) h.internalEur = microRscToEur(h.internalMicroRsc, community.rscValueEur);
  return out;
}
