import { sign, verify as verifySignature, type KeyObject } from 'node:crypto';
import { canonicalJson, HEX128, HEX64, sha256Hex } from './canonical.js';
import { leafHash, merkleRoot } from './merkle.js';
import { ACCOUNT_NAME, OPERATOR, publicKeyFromHex } from './keys.js';
import { formatRsc, MAX_MICRO_RSC } from './amount.js';

/**
 * # The RESCoin ledger: formats and rules
 *
 * A tamper-evident, signed, append-only record of every RESCoin paid (DESIGN.md, "RESCoin"). This
 * file is the specification and the pure rules (no files); store.ts keeps a ledger folder on disk.
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

// ---------------------------------------------------------------------------------------------
// Signing messages and hashes

export function txMessage(chainId: string, unsigned: UnsignedTx): Buffer {
  return Buffer.from(`rescoin/tx/v1\n${chainId}\n${canonicalJson(unsigned)}`);
}

export function blockHash(header: BlockHeader): string {
  const h: BlockHeader = { height: header.height, time: header.time, prev: header.prev, merkle: header.merkle };
  if (header.operator !== undefined) h.operator = header.operator;
  return sha256Hex(`rescoin/block/v1\n${canonicalJson(h)}`);
}

function blockMessage(hash: string): Buffer {
  return Buffer.from(`rescoin/block/v1\n${hash}`);
}

/** Sign a transaction for ledger `chainId` with its sender's private key. */
export function signTx<T extends UnsignedTx>(chainId: string, unsigned: T, key: KeyObject): T & { sig: string } {
  const sig = sign(null, txMessage(chainId, unsigned), key).toString('hex');
  return Object.freeze({ ...unsigned, sig }) as unknown as T & { sig: string };
}

/** Build and sign a block over transactions already checked against the state. */
export function makeBlock(prev: { height: number; head: string; time: number }, txs: Tx[], leaves: Buffer[], time: number, operatorKey: KeyObject, operatorHex?: string): Block {
  const header: BlockHeader = { height: prev.height + 1, time: Math.max(time, prev.time), prev: prev.head, merkle: merkleRoot(leaves) };
  if (operatorHex !== undefined) header.operator = operatorHex;
  const hash = blockHash(header);
  const sig = sign(null, blockMessage(hash), operatorKey).toString('hex');
  return { ...header, txs, hash, sig };
}

// ---------------------------------------------------------------------------------------------
// Forms

const TX_FIELDS: Record<Tx['type'], string> = {
  account: 'from,name,nonce,publicKey,sig,type',
  mint: 'amount,day,from,meterSha256,nonce,reason,seed,sig,to,type',
  transfer: 'amount,from,memo,nonce,sig,to,type',
};
const BLOCK_FIELDS = 'hash,height,merkle,prev,sig,time,txs';
const GENESIS_FIELDS = 'hash,height,merkle,operator,prev,sig,time,txs';

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const show = (x: unknown) => JSON.stringify(x)?.slice(0, 80);

function fields(o: Record<string, unknown>, want: string, what: string): void {
  const got = Object.keys(o).sort().join(',');
  if (got !== want) throw new RuleError(`${what} has fields ${got || 'none'}, expected ${want}`);
}

function str(o: Record<string, unknown>, k: string, re: RegExp | null, what: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new RuleError(`${what}.${k} must be a string, got ${show(v)}`);
  if (re && !re.test(v)) throw new RuleError(`${what}.${k} ${show(v)} has the wrong form (${re.source})`);
  if (v.length > MAX_TEXT) throw new RuleError(`${what}.${k} is ${v.length} characters, at most ${MAX_TEXT}`);
  return v;
}

function int(o: Record<string, unknown>, k: string, min: number, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new RuleError(`${what}.${k} must be an integer ≥ ${min}, got ${show(v)}`);
  return v;
}

/** Check a transaction's form (fields, types, ranges), whatever the state. */
export function checkTxForm(x: unknown, what = 'tx'): Tx {
  if (!isObject(x)) throw new RuleError(`${what} must be an object, got ${show(x)}`);
  const type = x.type;
  if (type !== 'account' && type !== 'mint' && type !== 'transfer') throw new RuleError(`${what}.type must be account, mint or transfer, got ${show(type)}`);
  fields(x, TX_FIELDS[type], `${what} (${type})`);
  str(x, 'from', ACCOUNT_NAME, what);
  int(x, 'nonce', 1, what);
  str(x, 'sig', HEX128, what);
  if (type === 'account') {
    str(x, 'name', ACCOUNT_NAME, what);
    str(x, 'publicKey', HEX64, what);
  } else {
    str(x, 'to', ACCOUNT_NAME, what);
    int(x, 'amount', 1, what);
    if (type === 'mint') {
      str(x, 'reason', null, what);
      int(x, 'day', 0, what);
      int(x, 'seed', 0, what);
      str(x, 'meterSha256', HEX64, what);
    } else str(x, 'memo', null, what);
  }
  return x as unknown as Tx;
}

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * Check a well-formed transaction against the state: sender, rules, nonce and (unless the caller
 * signed it itself with the sender's registered key) the signature. Throws RuleError; changes nothing.
 */
export function checkTx(state: ChainState, tx: Tx, opts: { signature: boolean } = { signature: true }): void {
  const from = state.account(tx.from, 'from');
  if (tx.type === 'account' || tx.type === 'mint') {
    if (tx.from !== OPERATOR) throw new RuleError(`a ${tx.type} must come from the operator, not from "${tx.from}"`);
  } else if (tx.from === OPERATOR) throw new RuleError('the operator mints RESCoin, it does not transfer it: from must be a prosumer');
  if (tx.nonce !== from.nonce + 1)
    throw new RuleError(
      tx.nonce <= from.nonce
        ? `nonce ${tx.nonce} of "${tx.from}" is already used (replayed transaction); the next is ${from.nonce + 1}`
        : `nonce ${tx.nonce} of "${tx.from}" skips ahead; the next is ${from.nonce + 1}`,
    );
  if (tx.type === 'account') {
    if (state.accounts.has(tx.name)) throw new RuleError(`name: account "${tx.name}" exists`);
    if (state.keys.has(tx.publicKey)) throw new RuleError(`publicKey: ${tx.publicKey} is already an account's key`);
    try {
      publicKeyFromHex(tx.publicKey);
    } catch {
      throw new RuleError(`publicKey: ${tx.publicKey} is not an Ed25519 public key`);
    }
  } else {
    const to = state.account(tx.to, 'to');
    if (to.name === OPERATOR) throw new RuleError('to: the operator holds no RESCoin; pay a prosumer');
    if (tx.type === 'mint') {
      if (state.paid.has(`${tx.to} ${tx.meterSha256}`)) throw new RuleError(`meterSha256: the meter data ${tx.meterSha256} was already paid to "${tx.to}"`);
      if (state.supply + tx.amount > MAX_MICRO_RSC) throw new RuleError(`amount: ${tx.amount} µRSC would take the supply beyond ${MAX_MICRO_RSC} µRSC`);
    } else {
      if (tx.to === tx.from) throw new RuleError(`to: "${tx.to}" cannot pay itself`);
      if (tx.amount > from.balance) throw new RuleError(`amount: "${tx.from}" has ${formatRsc(from.balance)} RSC, the transfer needs ${formatRsc(tx.amount)} RSC (a balance never goes negative)`);
    }
  }
  if (opts.signature) {
    const { sig, ...unsigned } = tx;
    if (!verifySignature(null, txMessage(state.chainId, unsigned as UnsignedTx), from.key, Buffer.from(sig, 'hex')))
      throw new RuleError(`sig: not a valid signature of "${tx.from}" over this transaction`);
  }
}

/** Apply a transaction that checkTx accepted. */
export function applyTx(state: ChainState, tx: Tx): void {
  const from = state.accounts.get(tx.from)!;
  from.nonce = tx.nonce;
  state.txCount++;
  if (tx.type === 'account') {
    state.accounts.set(tx.name, { name: tx.name, publicKey: tx.publicKey, key: publicKeyFromHex(tx.publicKey), nonce: 0, balance: 0 });
    state.keys.add(tx.publicKey);
  } else if (tx.type === 'mint') {
    state.accounts.get(tx.to)!.balance += tx.amount;
    state.supply += tx.amount;
    state.paid.add(`${tx.to} ${tx.meterSha256}`);
  } else {
    from.balance -= tx.amount;
    state.accounts.get(tx.to)!.balance += tx.amount;
  }
}

/**
 * Check one stored line (without its "\n") as the next block and apply it to the state. Throws
 * RuleError naming what is wrong; on success the state has the block's effects.
 */
export function applyBlockLine(state: ChainState, line: string, opts: { operatorPublicKey?: string } = {}): Block {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch (e) {
    throw new RuleError(`the line does not parse as JSON (${(e as Error).message})`);
  }
  if (!isObject(x)) throw new RuleError(`the line is not a JSON object`);
  let canonical: string;
  try {
    canonical = canonicalJson(x);
  } catch (e) {
    throw new RuleError(`the block holds a value canonical JSON does not: ${(e as Error).message}`);
  }
  if (canonical !== line) throw new RuleError('the line is not in canonical form (changed formatting, key order or escapes)');
  const genesis = state.height < 0;
  fields(x, genesis ? GENESIS_FIELDS : BLOCK_FIELDS, genesis ? 'the genesis block' : 'the block');
  const height = int(x, 'height', 0, 'block');
  if (height !== state.height + 1) throw new RuleError(`height is ${height}, expected ${state.height + 1}`);
  const time = int(x, 'time', 0, 'block');
  if (time < state.time) throw new RuleError(`time ${time} is earlier than the previous block's ${state.time}`);
  const prev = str(x, 'prev', HEX64, 'block');
  if (prev !== state.head) throw new RuleError(`prev ${prev} is not the previous block's hash ${state.head}`);
  const merkle = str(x, 'merkle', HEX64, 'block');
  const hash = str(x, 'hash', HEX64, 'block');
  const sig = str(x, 'sig', HEX128, 'block');
  if (!Array.isArray(x.txs)) throw new RuleError(`txs must be an array, got ${show(x.txs)}`);
  let operatorHex: string | undefined;
  if (genesis) {
    operatorHex = str(x, 'operator', HEX64, 'block');
    if (x.txs.length) throw new RuleError('the genesis block holds no transactions');
    if (opts.operatorPublicKey !== undefined && operatorHex !== opts.operatorPublicKey)
      throw new RuleError(`operator ${operatorHex} is not the trusted operator key ${opts.operatorPublicKey}`);
  }
  const txs = x.txs.map((t, i) => checkTxForm(t, `txs[${i}]`));
  const canonicalTxs = txs.map((t) => canonicalJson(t));
  const root = merkleRoot(canonicalTxs.map(leafHash));
  if (root !== merkle) throw new RuleError(`merkle ${merkle} is not the root of its transactions (${root})`);
  const header: BlockHeader = { height, time, prev, merkle };
  if (operatorHex !== undefined) header.operator = operatorHex;
  const computed = blockHash(header);
  if (computed !== hash) throw new RuleError(`hash ${hash} is not the hash of its header (${computed})`);
  let operatorKey: KeyObject;
  if (genesis) {
    try {
      operatorKey = publicKeyFromHex(operatorHex!);
    } catch {
      throw new RuleError(`operator ${operatorHex} is not an Ed25519 public key`);
    }
  } else operatorKey = state.operator.key;
  if (!verifySignature(null, blockMessage(hash), operatorKey, Buffer.from(sig, 'hex'))) throw new RuleError('sig: not the operator\'s signature of this block');
  if (genesis) {
    state.chainId = hash;
    state.accounts.set(OPERATOR, { name: OPERATOR, publicKey: operatorHex!, key: operatorKey, nonce: 0, balance: 0 });
    state.keys.add(operatorHex!);
  }
  txs.forEach((tx, i) => {
    try {
      checkTx(state, tx);
    } catch (e) {
      throw new RuleError(`txs[${i}] (${tx.type} from ${tx.from}, nonce ${tx.nonce}): ${(e as Error).message}`);
    }
    applyTx(state, tx);
  });
  state.height = height;
  state.head = hash;
  state.time = time;
  return x as unknown as Block;
}

// ---------------------------------------------------------------------------------------------
// Verify

export type VerifyResult =
  | { ok: true; head: string; height: number; txs: number; supply: number; accounts: number }
  | { ok: false; height: number; reason: string };

export interface Replay {
  state: ChainState;
  /** Bytes of the file that hold the valid blocks. */
  goodBytes: number;
  /** The first bad block, if any. */
  error: { height: number; reason: string } | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Replay a chain file's bytes block by block, stopping at the first bad one. A line without its
 * final "\n" is a bad block (a torn write) at its height, as is a line that does not parse.
 */
export function replay(bytes: Uint8Array, opts: { operatorPublicKey?: string } = {}): Replay {
  const state = new ChainState();
  let start = 0;
  let height = 0;
  const fail = (reason: string): Replay => ({ state, goodBytes: start, error: { height, reason } });
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0) return fail(`block ${height}: the last line has no trailing newline (a torn write; opening the ledger moves it aside)`);
    let line: string;
    try {
      line = utf8.decode(bytes.subarray(start, end));
    } catch {
      return fail(`block ${height}: the line is not valid UTF-8`);
    }
    try {
      applyBlockLine(state, line, opts);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return fail(`block ${height}: ${e.message}`);
    }
    start = end + 1;
    height++;
  }
  if (state.height < 0) return fail('block 0: the file holds no genesis block');
  return { state, goodBytes: start, error: null };
}

/** Verify a chain file's bytes: ok with the head hash, or the first bad block and why. */
export function verifyBytes(bytes: Uint8Array, opts: { operatorPublicKey?: string } = {}): VerifyResult {
  const r = replay(bytes, opts);
  if (r.error) return { ok: false, ...r.error };
  const s = r.state;
  return { ok: true, head: s.head, height: s.height, txs: s.txCount, supply: s.supply, accounts: s.accounts.size - 1 };
}
