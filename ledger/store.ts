import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { LedgerError } from './errors.js';
import { syncDir, writeAll, writeNewFile } from './durable.js';
import { leafHash } from './merkle.js';
import { generateKeyPair, loadPrivateKey, loadPublicKeyHex, OPERATOR, publicKeyHex, saveKeyPair, checkAccountName } from './keys.js';
import { RuleError, type AccountTx, type Block, type ChainState, type MintTx, type TransferTx, type Tx } from './ledger.js';
import { applyTx, checkTx, checkTxForm, signTx } from './transactions.js';
import { makeBlock, replay, verifyBytes, type VerifyResult } from './blocks.js';

/**
 * A ledger folder on disk (the formats are in ledger.ts):
 *
 *     L/chain.jsonl          the blocks, one canonical JSON line each, append-only
 *     L/chain.jsonl.torn-N   torn tails moved aside at open (N = 1, 2, …)
 *     L/keys/NAME.pem        private keys (0600); NAME.pub.pem their public keys
 *
 * Durability: a block is written with one write() and fsync'd before `commit` returns, so a
 * committed block survives a crash. Transactions are batched: `submit` checks and queues them,
 * `commit` writes all queued ones as one block (one fsync per block, not per transaction).
 *
 * Recovery: a crash during a write leaves a last line without its "\n" (or one that does not
 * parse). `Ledger.open` moves that tail aside to chain.jsonl.torn-N (written and fsync'd before the
 * chain is truncated, so no byte is lost), keeps every complete block, and says so in `recovered`.
 * Any other bad block refuses the open: that is tampering or damage, for `verify` to name.
 *
 * One writer at a time: before each append the store checks that the file still has the size it
 * left it with, so a second writer is refused rather than forking the chain (a check, not a lock).
 */

export const CHAIN_FILE = 'chain.jsonl';

export interface LedgerOptions {
  /** Block time source, ms since 1970 (default Date.now); inject a fixed clock for deterministic tests. */
  clock?: () => number;
  /**
   * The operator's public key (raw hex) the genesis block must hold. Default: keys/operator.pub.pem
   * when that file exists; null: trust the genesis block as it is.
   */
  operatorPublicKey?: string | null;
}

export interface Recovery {
  /** Height the torn line would have had (= blocks kept). */
  height: number;
  /** Bytes moved aside. */
  bytes: number;
  tornFile: string;
}

export interface AccountView {
  name: string;
  publicKey: string;
  nonce: number;
  /** µRSC. */
  balance: number;
}

function anchor(dir: string, opt: string | null | undefined): string | undefined {
  if (opt === null) return undefined;
  return opt ?? loadPublicKeyHex(dir, OPERATOR) ?? undefined;
}

export function chainPath(dir: string): string {
  return join(dir, CHAIN_FILE);
}

/** Verify a ledger folder's chain from its bytes (read-only: never recovers, never writes). */
export function verifyLedger(dir: string, opts: Pick<LedgerOptions, 'operatorPublicKey'> = {}): VerifyResult {
  const path = chainPath(dir);
  if (!existsSync(path)) return { ok: false, height: 0, reason: `block 0: ${path} does not exist (no ledger in ${dir}: Ledger.init, rescoin ledger init, makes one)` };
  return verifyBytes(readFileSync(path), { operatorPublicKey: anchor(dir, opts.operatorPublicKey) });
}

/** The blocks of a ledger folder as stored (parsed, not verified): for display. */
export function readBlocks(dir: string): Block[] {
  const text = readFileSync(chainPath(dir), 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l, i) => {
    try {
      return JSON.parse(l) as Block;
    } catch {
      throw new LedgerError(`block ${i} of ${chainPath(dir)} does not parse (verifyLedger, rescoin ledger verify, names the first bad block)`);
    }
  });
}

function tornName(path: string): string {
  for (let n = 1; ; n++) if (!existsSync(`${path}.torn-${n}`)) return `${path}.torn-${n}`;
}

/** Move a torn tail of the chain aside (copy, fsync, then truncate the chain). */
function moveTornTail(path: string, bytes: Buffer, from: number): string {
  const torn = tornName(path);
  writeNewFile(torn, bytes.subarray(from), 0o600);
  syncDir(dirname(path));
  const chain = openSync(path, 'r+');
  try {
    ftruncateSync(chain, from);
    fsyncSync(chain);
  } finally {
    closeSync(chain);
  }
  return torn;
}

/** Where a torn tail starts: the last line when it has no "\n" or does not parse; else null. */
function tornTail(bytes: Buffer): number | null {
  if (bytes.length === 0) return null;
  const lastNl = bytes.lastIndexOf(0x0a);
  if (lastNl !== bytes.length - 1) return lastNl + 1;
  const start = lastNl === 0 ? 0 : bytes.lastIndexOf(0x0a, lastNl - 1) + 1;
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, lastNl)));
    return null;
  } catch {
    return start;
  }
}

export class Ledger {
  readonly dir: string;
  readonly path: string;
  /** Set when open() moved a torn tail aside. */
  recovered: Recovery | null = null;
  private state: ChainState;
  private readonly clock: () => number;
  private size: number;
  private fd: number | null = null;
  private pending: Tx[] = [];
  private leaves: Buffer[] = [];
  private broken: string | null = null;
  /** Transactions signed by this object with the sender's registered key: their signature holds. */
  private readonly signedHere = new WeakSet<object>();
  private readonly keyHex = new WeakMap<KeyObject, string>();

  private constructor(dir: string, state: ChainState, size: number, clock: () => number) {
    this.dir = dir;
    this.path = chainPath(dir);
    this.state = state;
    this.size = size;
    this.clock = clock;
  }

  /** Create a ledger folder: the operator's key pair in keys/ and the genesis block. */
  static init(dir: string, opts: LedgerOptions = {}): Ledger {
    const path = chainPath(dir);
    if (existsSync(path)) throw new LedgerError(`dir: ${dir} already holds a ledger (${path})`, 'dir');
    mkdirSync(dir, { recursive: true });
    let operatorKey: KeyObject;
    if (existsSync(join(dir, 'keys', `${OPERATOR}.pem`))) operatorKey = loadPrivateKey(dir, OPERATOR);
    else {
      const pair = generateKeyPair();
      saveKeyPair(dir, OPERATOR, pair);
      operatorKey = pair.privateKey;
    }
    const genesis = makeBlock({ height: -1, head: '0'.repeat(64), time: 0 }, [], [], (opts.clock ?? Date.now)(), operatorKey, publicKeyHex(operatorKey));
    writeNewFile(path, `${canonicalJson(genesis)}\n`, 0o644);
    syncDir(dir);
    return Ledger.open(dir, opts);
  }

  /**
   * Open a ledger folder: replay and check every block (the same checks as verify), after moving a
   * torn tail aside. Throws LedgerError naming the first bad block otherwise.
   */
  static open(dir: string, opts: LedgerOptions = {}): Ledger {
    const path = chainPath(dir);
    if (!existsSync(path)) throw new LedgerError(`dir: no ledger in ${dir} (${path} does not exist; create one first: Ledger.init, rescoin ledger init)`, 'dir');
    let bytes = readFileSync(path);
    let recovered: Recovery | null = null;
    const torn = tornTail(bytes);
    if (torn !== null) {
      const height = bytes.subarray(0, torn).reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
      const tornFile = moveTornTail(path, bytes, torn);
      recovered = { height, bytes: bytes.length - torn, tornFile };
      bytes = bytes.subarray(0, torn);
    }
    const r = replay(bytes, { operatorPublicKey: anchor(dir, opts.operatorPublicKey) });
    if (r.error) throw new LedgerError(`${path} is not valid at ${r.error.reason}; nothing was written (verifyLedger, rescoin ledger verify, tells more)`);
    const ledger = new Ledger(dir, r.state, bytes.length, opts.clock ?? Date.now);
    ledger.recovered = recovered;
    return ledger;
  }

  get height(): number {
    return this.state.height;
  }
  get head(): string {
    return this.state.head;
  }
  get chainId(): string {
    return this.state.chainId;
  }
  /** µRSC minted in all (pending transactions included). */
  get supply(): number {
    return this.state.supply;
  }
  /** Transactions submitted and not yet committed. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Accounts with balances and nonces, pending transactions included. */
  accounts(): AccountView[] {
    return [...this.state.accounts.values()].map(({ name, publicKey, nonce, balance }) => ({ name, publicKey, nonce, balance }));
  }

  /** The prosumer accounts' names, in registration order. */
  prosumers(): string[] {
    return [...this.state.accounts.keys()].filter((n) => n !== OPERATOR);
  }

  has(name: string): boolean {
    return this.state.accounts.has(name);
  }

  /** µRSC of an account, pending transactions included. */
  balance(name: string, field = 'name'): number {
    return this.account(name, field).balance;
  }

  /** The nonce the account's next transaction must carry. */
  nextNonce(name: string, field = 'from'): number {
    return this.account(name, field).nonce + 1;
  }

  private account(name: string, field: string) {
    try {
      return this.state.account(name, field);
    } catch (e) {
      throw new LedgerError((e as Error).message, field);
    }
  }

  private operatorKey(): KeyObject {
    return this.signerKey(OPERATOR, loadPrivateKey(this.dir, OPERATOR));
  }

  /** A private key checked to be the account's registered key (once per key). */
  private signerKey(name: string, key: KeyObject): KeyObject {
    let hex = this.keyHex.get(key);
    if (hex === undefined) {
      hex = publicKeyHex(key);
      this.keyHex.set(key, hex);
    }
    const account = this.account(name, 'from');
    if (hex !== account.publicKey) throw new LedgerError(`from: this key is not the key of account "${name}"`);
    return key;
  }

  private signed<T extends Tx>(tx: T): T {
    this.signedHere.add(tx);
    return tx;
  }

  /** A signed registration of a prosumer account (the operator signs). */
  signAccount(name: string, publicKey: string): AccountTx {
    checkAccountName(name);
    return this.signed(signTx(this.chainId, { type: 'account', from: OPERATOR, name, publicKey, nonce: this.nextNonce(OPERATOR) }, this.operatorKey()));
  }

  /** A signed mint of `amount` µRSC to a prosumer (the operator signs). */
  signMint(m: { to: string; amount: number; reason: string; day: number; seed: number; meterSha256: string }): MintTx {
    const tx = { type: 'mint' as const, from: OPERATOR, to: m.to, amount: m.amount, reason: m.reason, day: m.day, seed: m.seed, meterSha256: m.meterSha256, nonce: this.nextNonce(OPERATOR) };
    return this.signed(signTx(this.chainId, tx, this.operatorKey()));
  }

  /** A signed transfer of `amount` µRSC; the key defaults to keys/FROM.pem. */
  signTransfer(t: { from: string; to: string; amount: number; memo?: string }, key?: KeyObject): TransferTx {
    const k = this.signerKey(t.from, key ?? loadPrivateKey(this.dir, t.from));
    const tx = { type: 'transfer' as const, from: t.from, to: t.to, amount: t.amount, memo: t.memo ?? '', nonce: this.nextNonce(t.from) };
    return this.signed(signTx(this.chainId, tx, k));
  }

  /**
   * Check a transaction against the state with the pending ones applied, and queue it for the next
   * block. Refused (LedgerError naming the rule, the field and the value): a bad form, an unknown
   * account, a bad signature, a used nonce, a transfer above the balance, a mint not from the operator.
   */
  submit(tx: Tx): void {
    this.usable();
    try {
      const t = checkTxForm(tx);
      // A transaction this object signed (frozen, with the sender's registered key) is valid by
      // construction; any other is checked in full. verify() checks every signature regardless.
      checkTx(this.state, t, { signature: !this.signedHere.has(tx) });
      applyTx(this.state, t);
      this.pending.push(t);
      this.leaves.push(leafHash(canonicalJson(t)));
    } catch (e) {
      if (e instanceof RuleError) throw new LedgerError(`${tx?.type ?? 'transaction'} refused: ${e.message}`);
      throw e;
    }
  }

  /**
   * Write the pending transactions as one block signed by the operator, fsync'd before this
   * returns. Returns the block, or null when nothing is pending.
   */
  commit(): Block | null {
    this.usable();
    if (this.pending.length === 0) return null;
    const block = makeBlock(this.state, this.pending, this.leaves, this.clock(), this.operatorKey());
    const line = Buffer.from(`${canonicalJson(block)}\n`);
    if (this.fd === null) this.fd = openSync(this.path, 'a');
    const onDisk = fstatSync(this.fd).size;
    if (onDisk !== this.size) {
      this.broken = `${this.path} changed on disk (${onDisk} bytes, this process wrote ${this.size}): another writer? Open the ledger again`;
      throw new LedgerError(this.broken);
    }
    try {
      writeAll(this.fd, line);
      fsyncSync(this.fd);
    } catch (e) {
      // The state already holds the pending transactions; only a fresh open knows what reached disk.
      this.broken = `an append failed (${(e as Error).message}): open the ledger again (it recovers a torn tail)`;
      throw new LedgerError(this.broken);
    }
    this.size += line.length;
    this.state.height = block.height;
    this.state.head = block.hash;
    this.state.time = block.time;
    this.pending = [];
    this.leaves = [];
    return block;
  }

  /** Submit transactions and commit them as one block; refuses all of them if one is refused. */
  append(txs: Tx[]): Block {
    if (this.pending.length) throw new LedgerError('append() with transactions pending: commit() them first');
    try {
      for (const tx of txs) this.submit(tx);
    } catch (e) {
      this.discard();
      throw e;
    }
    const block = this.commit();
    if (!block) throw new LedgerError('append() needs at least one transaction');
    return block;
  }

  /** Register a new prosumer: a key pair in keys/ (0600) and an account transaction in a block. */
  register(name: string): { block: Block; publicKey: string; created: boolean } {
    checkAccountName(name, 'name');
    if (name === OPERATOR) throw new LedgerError(`name: "${OPERATOR}" is the operator's account`, 'name');
    if (this.has(name)) throw new LedgerError(`name: account "${name}" exists`, 'name');
    let publicKey = loadPublicKeyHex(this.dir, name);
    const created = publicKey === null;
    // A key left by an interrupted keygen is registered as it is rather than replaced.
    if (publicKey === null) {
      const pair = generateKeyPair();
      saveKeyPair(this.dir, name, pair);
      publicKey = publicKeyHex(pair.publicKey);
    }
    return { block: this.append([this.signAccount(name, publicKey)]), publicKey, created };
  }

  /** Drop the pending transactions: the state is rebuilt by replaying the file's blocks. */
  discard(): void {
    const r = replay(readFileSync(this.path).subarray(0, this.size));
    if (r.error) throw new LedgerError(`${this.path}: ${r.error.reason}`);
    this.state = r.state;
    this.pending = [];
    this.leaves = [];
  }

  private usable(): void {
    if (this.broken) throw new LedgerError(this.broken);
  }

  /** Close the chain file (the ledger cannot append afterwards). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.broken = 'the ledger is closed';
  }
}

