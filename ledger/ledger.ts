import type { KeyObject } from 'node:crypto';
import { OPERATOR } from './keys.js';

/**
 * # The RESCoin ledger: formats and rules
 *
 * A tamper-evident, signed, append-only record of every RESCoin paid (DESIGN.md, "RESCoin"). This
 * file is the specification, the types and the state the rules check against. The pure rules (no
 * files) are in transactions.ts (signing and checking transactions) and blocks.ts (building,
 * checking and replaying blocks, verify); store.ts keeps a ledger folder on disk.
 *
 * ## Consensus: a single authority
 * The micro-grid operator alone writes blocks and signs each one. There is no mining, no voting and
 * no peer-to-peer replication: whoever holds the operator's key decides what goes in. What the
 * chain gives is evidence, not decentralisation: nobody (the operator included) can change, drop
 * or reorder a written transaction without `verify` naming the block, and nobody but an account's
 * owner can sign a transfer from it. Forking the whole file with the operator's key is detected only
 * against a copy of the head hash or of the operator's public key kept elsewhere.
 *
 * ## Amounts
 * Integers of µRSC (amount.ts: 1 RSC = 10⁶ µRSC, `toMicroRsc` converts), so balances are exact.
 *
 * ## Accounts
 * `operator` (its public key is in the genesis block) and prosumers registered by an `account`
 * transaction. An account has a name (/^[a-z][a-z0-9_-]{0,31}$/), a raw Ed25519 public key (64 hex
 * digits), a balance (µRSC, never negative) and a nonce: the number of transactions it has signed.
 *
 * ## Transactions (JSON objects, exactly these fields)
 * | type | fields | signed by | rules |
 * | --- | --- | --- | --- |
 * | `account` | from: "operator", name, publicKey | operator | name and key not registered yet |
 * | `mint` | from: "operator", to, amount, reason, day, seed, meterSha256 | operator | to is a prosumer; amount > 0; this meter data not yet paid to `to` |
 * | `transfer` | from, to, amount, memo | from | from ≠ to, both prosumers; 0 < amount ≤ balance of from |
 *
 * Every transaction also has `nonce` (the sender's previous nonce + 1: a replayed or reordered
 * transaction is refused) and `sig`: the sender's Ed25519 signature (128 hex digits) over the UTF-8
 * bytes of
 *
 *     "rescoin/tx/v1\n" + chainId + "\n" + canonicalJson(the transaction without sig)
 *
 * where chainId is the genesis block's hash, so a transaction cannot be replayed on another ledger.
 * A mint's `day` is the day's index in its evaluation and `seed` the day's seed (drawDay(scenario,
 * seed) draws it again); `meterSha256` is the SHA-256 of the meter data it pays for (payouts.ts).
 * Canonical JSON (canonical.ts): sorted keys, no spaces, safe integers only.
 *
 * ## Blocks
 *     { height, time, prev, merkle, txs, hash, sig }   (+ operator in the genesis block)
 * - height: 0 for the genesis block, then +1; time: ms since 1970 from the store's clock, never
 *   less than the previous block's; prev: the previous block's hash (64 zeros for the genesis);
 * - merkle: the root of the transactions (merkle.ts); the genesis block has none and holds
 *   `operator`, the operator's raw public key;
 * - hash = SHA-256("rescoin/block/v1\n" + canonicalJson({ height, time, prev, merkle[, operator] }));
 * - sig: the operator's signature over "rescoin/block/v1\n" + hash.
 *
 * ## File
 * chain.jsonl: one block a line, each line the canonical JSON of the block and "\n", UTF-8. Blocks
 * are only ever appended, and an append returns only after fsync (store.ts).
 *
 * ## What verify checks, block by block (the first failure names the block)
 * the line ends in "\n", is UTF-8, parses, and is byte for byte the canonical JSON of what it
 * parses to (so no byte can change "harmlessly"); the fields and their forms; the height; prev =
 * the previous hash; time not earlier than the previous; the Merkle root of the transactions; the
 * hash; the operator's signature; then each transaction in order: its form, a known sender, the
 * rules above, the nonce, the signature, and the balances it leaves (never negative, never above
 * 2⁵³ − 1 µRSC).
 */

export const GENESIS_PREV = '0'.repeat(64);
export const MAX_TEXT = 500;

export interface AccountTx {
  type: 'account';
  from: string;
  name: string;
  publicKey: string;
  nonce: number;
  sig: string;
}

export interface MintTx {
  type: 'mint';
  from: string;
  to: string;
  /** µRSC. */
  amount: number;
  reason: string;
  day: number;
  seed: number;
  meterSha256: string;
  nonce: number;
  sig: string;
}

export interface TransferTx {
  type: 'transfer';
  from: string;
  to: string;
  /** µRSC. */
  amount: number;
  memo: string;
  nonce: number;
  sig: string;
}

export type Tx = AccountTx | MintTx | TransferTx;
/** A transaction before it is signed. */
export type UnsignedTx = Omit<AccountTx, 'sig'> | Omit<MintTx, 'sig'> | Omit<TransferTx, 'sig'>;

export interface BlockHeader {
  height: number;
  time: number;
  prev: string;
  merkle: string;
  operator?: string;
}

export interface Block extends BlockHeader {
  txs: Tx[];
  hash: string;
  sig: string;
}

export interface Account {
  name: string;
  publicKey: string;
  key: KeyObject;
  /** Transactions this account has signed. */
  nonce: number;
  /** µRSC. */
  balance: number;
}

/** A transaction or block that breaks a rule; the message says which, naming field and value. */
export class RuleError extends Error {}

/** The state the rules check against: what the blocks so far (and any pending transactions) left. */
export class ChainState {
  /** Height of the last block applied; −1 before the genesis block. */
  height = -1;
  head = GENESIS_PREV;
  time = 0;
  chainId = '';
  /** µRSC minted in all. */
  supply = 0;
  txCount = 0;
  readonly accounts = new Map<string, Account>();
  readonly keys = new Set<string>();
  /** `${to} ${meterSha256}` of every mint: the same meter data is never paid twice to an account. */
  readonly paid = new Set<string>();

  get operator(): Account {
    const op = this.accounts.get(OPERATOR);
    if (!op) throw new RuleError('no genesis block');
    return op;
  }

  account(name: string, field: string): Account {
    const a = this.accounts.get(name);
    if (!a) throw new RuleError(`${field}: unknown account "${name}" (accounts: ${[...this.accounts.keys()].join(', ') || 'none'})`);
    return a;
  }
}
