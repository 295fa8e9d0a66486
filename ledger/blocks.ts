import { sign, verify as verifySignature, type KeyObject } from 'node:crypto';
import { canonicalJson, HEX128, HEX64, sha256Hex } from './canonical.js';
import { leafHash, merkleRoot } from './merkle.js';
import { OPERATOR, publicKeyFromHex } from './keys.js';
import { fields, int, isObject, show, str } from './forms.js';
import { ChainState, RuleError, type Block, type BlockHeader, type Tx } from './ledger.js';
import { applyTx, checkTx, checkTxForm } from './transactions.js';

/** Blocks: their hash and signature, checking one stored line as the next block, replay and verify (spec in ledger.ts). */

export function blockHash(header: BlockHeader): string {
  const h: BlockHeader = { height: header.height, time: header.time, prev: header.prev, merkle: header.merkle };
  if (header.operator !== undefined) h.operator = header.operator;
  return sha256Hex(`rescoin/block/v1\n${canonicalJson(h)}`);
}

function blockMessage(hash: string): Buffer {
  return Buffer.from(`rescoin/block/v1\n${hash}`);
}

/** Build and sign a block over transactions already checked against the state. */
export function makeBlock(prev: { height: number; head: string; time: number }, txs: Tx[], leaves: Buffer[], time: number, operatorKey: KeyObject, operatorHex?: string): Block {
  const header: BlockHeader = { height: prev.height + 1, time: Math.max(time, prev.time), prev: prev.head, merkle: merkleRoot(leaves) };
  if (operatorHex !== undefined) header.operator = operatorHex;
  const hash = blockHash(header);
  const sig = sign(null, blockMessage(hash), operatorKey).toString('hex');
  return { ...header, txs, hash, sig };
}

const BLOCK_FIELDS = 'hash,height,merkle,prev,sig,time,txs';
const GENESIS_FIELDS = 'hash,height,merkle,operator,prev,sig,time,txs';

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
