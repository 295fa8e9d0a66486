import { createHash } from 'node:crypto';

/**
 * The Merkle tree of a block's transactions (binary, SHA-256, RFC 6962 style):
 *
 *   leaf(tx)     = SHA-256(0x00 ‖ canonical JSON of the signed tx)      (also the tx id)
 *   node(l, r)   = SHA-256(0x01 ‖ l ‖ r)
 *   odd last node: promoted to the next level unchanged
 *   no leaves    = SHA-256(empty string)
 *
 * The 0x00 / 0x01 prefixes keep a leaf from passing for an inner node, and promoting (rather than
 * duplicating, as Bitcoin does) the odd node means two different lists of transactions never share
 * a root (the duplicated-last-leaf ambiguity of CVE-2012-2459).
 */

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** The leaf hash (tx id) of a transaction's canonical bytes. */
export function leafHash(txCanonical: string): Buffer {
  return createHash('sha256').update(LEAF).update(txCanonical).digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

/** The root over leaf hashes, as 64 hex digits. */
export function merkleRoot(leaves: readonly Buffer[]): string {
  if (leaves.length === 0) return createHash('sha256').digest('hex');
  let level = leaves.slice();
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0].toString('hex');
}
