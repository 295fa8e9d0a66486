import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger, sha256Hex, toMicroRsc, type Block } from '../../ledger/index.js';

/** A fixed clock: block times never make a test depend on when it runs. */
export const clock = () => 1_700_000_000_000;

export const tmp = (tag = 'ledger') => mkdtempSync(join(tmpdir(), `rescoin-${tag}-`));

/** A ledger with the operator and the named prosumers registered. */
export function newLedger(names: string[] = ['alice', 'bob']): { dir: string; ledger: Ledger } {
  const dir = tmp();
  const ledger = Ledger.init(dir, { clock });
  for (const n of names) ledger.register(n);
  return { dir, ledger };
}

/** A distinct meter hash for test mints. */
export const meter = (i: number) => sha256Hex(`meter data ${i}`);

/** Mint `rsc` RSC to `to` in a block of its own. */
export function mint(ledger: Ledger, to: string, rsc: number, i: number): Block {
  return ledger.append([ledger.signMint({ to, amount: toMicroRsc(rsc), reason: `test ${i}`, day: i, seed: 1000 + i, meterSha256: meter(i) })]);
}
