import { existsSync } from 'node:fs';
import type { Community } from '../community/community.js';
import type { CommunityRule } from '../community/play.js';
import { replayBills, settleCommunityDay, type SettleableDay, type Settlement } from '../community/settle.js';
import { HELD_OUT_SEED, heldOutDay } from '../env/index.js';
import { chainPath, formatRsc, Ledger } from '../ledger/index.js';
import { defineCommand, println, type Io } from './command.js';
import { communityFrom, jsonOption } from './common.js';
import { openLedger } from './ledger.js';

/**
 * `rescoin community settle`: play held-out community days with a rule and settle each one on the
 * ledger as a block (community/settle.ts; docs/community-settlement.md). Afterwards the chain is
 * read back (replayBills) and checked against the bills, and the user is told to verify it.
 */

// Spelt out rather than imported: play.ts loads the baselines, which `rescoin` loads only when it plays.
export const SETTLE_POLICIES = ['asap', 'cheapest', 'precharge', 'mpc'] as const satisfies readonly CommunityRule[];
export type SettlePolicy = (typeof SETTLE_POLICIES)[number];

/** Plays community day `seed` to its end (the day's log, with its summary). */
export type PlayDay = (seed: number) => SettleableDay | Promise<SettleableDay>;

export interface SettleDaysResult {
  settlements: Settlement[];
  /** Largest |replayed − settled| internal part over homes and days, µRSC (0: the replay equals the bills). */
  replayMaxDiff: number;
  createdLedger: boolean;
}

/**
 * Play and settle days 0 … days−1 of `seed` (heldOutDay) on the ledger folder (created when it has
 * no chain yet), then replay the chain and compare each home's internal part with what was settled.
 */
export async function settleDays(o: { community: Community; ledgerDir: string; days: number; seed: number; play: PlayDay; io: Io }): Promise<SettleDaysResult> {
  const createdLedger = !existsSync(chainPath(o.ledgerDir));
  const ledger = createdLedger ? Ledger.init(o.ledgerDir) : openLedger(o.ledgerDir, o.io, 'rescoin community settle: --ledger');
  const settlements: Settlement[] = [];
  try {
    for (let d = 0; d < o.days; d++) settlements.push(settleCommunityDay(ledger, o.community, await o.play(heldOutDay(d, o.seed)), d));
  } finally {
    ledger.close();
  }
  const replayed = new Map(replayBills(o.ledgerDir, o.community).map((r) => [r.seed, r]));
  let replayMaxDiff = 0;
  for (const s of settlements) {
    const r = replayed.get(s.seed);
    s.perHome.forEach((h, i) => (replayMaxDiff = Math.max(replayMaxDiff, Math.abs((r?.homes[i].internalMicroRsc ?? 0) - h.internalMicroRsc))));
  }
  return { settlements, replayMaxDiff, createdLedger };
}

const eur = (x: number) => `${x < 0 ? '−' : ''}${Math.abs(x).toFixed(4)} €`;
const rsc = (micro: number) => `${micro < 0 ? '−' : ''}${formatRsc(Math.abs(micro))}`;

/** The table of one settled day: each home's bill, its parts and the RSC it moved. */
export function formatSettlement(s: Settlement): string {
  const count = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  const parts = [count(s.mints.length, 'payout'), count(s.deposits.length, 'deposit'), count(s.transfers.length, 'transfer'), ...(s.accounts.length ? [count(s.accounts.length, 'new account')] : [])];
  const head = `day ${s.day} (seed ${s.seed}): ${s.height === null ? 'nothing to write' : `block ${s.height}`}, ${parts.join(', ')}`;
  const cols = ['home', 'bill', 'grid part', 'internal part', 'RSC sent (−: received)', 'payout RSC', 'deposit RSC'];
  const rows = s.perHome.map((h) => [h.id, eur(h.billEur), eur(h.gridEur), eur(h.internalEur), rsc(h.internalMicroRsc), rsc(h.payoutMicroRsc), rsc(h.depositMicroRsc)]);
  const w = cols.map((c, k) => Math.max(c.length, ...rows.map((r) => r[k].length)));
  const line = (r: string[]) => `  ${r.map((x, k) => (k === 0 ? x.padEnd(w[k]) : x.padStart(w[k]))).join('  ')}`;
  return [head, line(cols), ...rows.map(line)].join('\n');
}

/** The rule's day player: one env and one policy per home (community/play.ts), loaded when the command runs. */
async function player(c: Community, policy: SettlePolicy): Promise<PlayDay> {
  const [{ makeCommunityEnv }, { communityPolicies, playCommunityDay }] = await Promise.all([import('../community/env.js'), import('../community/play.js')]);
  const env = makeCommunityEnv(c);
  const policies = communityPolicies(c, policy);
  return async (seed) => (await playCommunityDay(env, policies, seed)).log;
}

export const settleCommand = defineCommand({
  name: 'settle',
  summary: "Play held-out community days with a rule and settle each on the RESCoin ledger as one block: payouts as operator mints, the market's internal payments as signed transfers between the homes",
  options: {
    community: { type: 'string', required: true, description: 'Community id (data/communities/) or path to a community JSON' },
    ledger: { type: 'string', required: true, description: 'Ledger folder (created when it holds no chain yet); the homes get accounts named by their ids, their keys in keys/' },
    days: { type: 'number', default: 1, integer: true, min: 1, description: 'Held-out community days 0 … N−1 of --seed, one block each' },
    seed: { type: 'number', default: HELD_OUT_SEED, integer: true, min: 0, description: 'Seed of the held-out days: day d is heldOutDay(d, seed); a day already on the ledger is refused' },
    policy: { type: 'choice', choices: SETTLE_POLICIES, default: 'asap', description: 'Rule every home plays the days with' },
    json: { ...jsonOption, description: 'Print { community, ledger, policy, days: [{ day, seed, height, transfers, mints, deposits, perHome }], replayMaxDiff }' },
  },
  fields: { dir: '--ledger' },
  async run(a, io) {
    const community = communityFrom(a.community);
    const play = await player(community, a.policy);
    const r = await settleDays({ community, ledgerDir: a.ledger, days: a.days, seed: a.seed, play, io });
    if (a.json) {
      const days = r.settlements.map(({ day, seed, height, accounts, transfers, mints, deposits, perHome }) => ({ day, seed, height, accounts, transfers, mints, deposits, perHome }));
      println(io.stdout, JSON.stringify({ community: community.id, ledger: a.ledger, policy: a.policy, valueEur: community.rscValueEur, days, replayMaxDiff: r.replayMaxDiff }, null, 2));
    } else {
      if (r.createdLedger) println(io.stdout, `created ledger ${a.ledger} (operator key ${a.ledger}/keys/operator.pem)`);
      println(io.stdout, `${community.id}: ${a.days} held-out days of seed ${a.seed} played with ${a.policy}, ${community.market} market, settled at ${community.rscValueEur} €/RSC\n`);
      for (const s of r.settlements) println(io.stdout, `${formatSettlement(s)}\n`);
      println(io.stdout, `bill = grid part (paid to the grid in €, off-chain) + internal part (paid to the neighbours in RSC, on the chain)`);
      println(io.stdout, r.replayMaxDiff === 0 ? 'replayed from the chain: every internal part equals the bills to the µRSC' : `replayed from the chain: internal parts differ from the bills by up to ${r.replayMaxDiff} µRSC`);
      println(io.stdout, `check the chain: rescoin ledger verify --dir ${a.ledger}`);
    }
    return r.replayMaxDiff === 0 ? 0 : 1;
  },
});
