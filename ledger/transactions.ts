import { sign, verify as verifySignature, type KeyObject } from 'node:crypto';
import { canonicalJson, HEX128, HEX64 } from './canonical.js';
import { ACCOUNT_NAME, OPERATOR, publicKeyFromHex } from './keys.js';
import { formatRsc, MAX_MICRO_RSC } from './amount.js';
import { fields, int, isObject, show, str } from './forms.js';
import { RuleError, type ChainState, type Tx, type UnsignedTx } from './ledger.js';

/** Transactions: what is signed, their form, and the rules a transaction must meet (spec in ledger.ts). */

export function txMessage(chainId: string, unsigned: UnsignedTx): Buffer {
  return Buffer.from(`rescoin/tx/v1\n${chainId}\n${canonicalJson(unsigned)}`);
}

/** Sign a transaction for ledger `chainId` with its sender's private key. */
export function signTx<T extends UnsignedTx>(chainId: string, unsigned: T, key: KeyObject): T & { sig: string } {
  const sig = sign(null, txMessage(chainId, unsigned), key).toString('hex');
  return Object.freeze({ ...unsigned, sig }) as unknown as T & { sig: string };
}

const TX_FIELDS: Record<Tx['type'], string> = {
  account: 'from,name,nonce,publicKey,sig,type',
  mint: 'amount,day,from,meterSha256,nonce,reason,seed,sig,to,type',
  transfer: 'amount,from,memo,nonce,sig,to,type',
};

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
