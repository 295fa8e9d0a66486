import { mkdtempSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign, verify, type KeyObject } from 'node:crypto';
import { chainPath, generateKeyPair, Ledger, loadPrivateKey, sha256Hex, verifyBytes } from '../ledger/index.js';
import { Rng } from '../env/index.js';
import { median, writeResults } from './common.js';

/**
 * RESCoin ledger speed, one thread (node:crypto's Ed25519 is synchronous: it runs on this thread).
 * - append: build and sign N transactions (1 mint in 5, the rest transfers between 8 prosumers),
 *   check each against the state, and write them in blocks of B transactions, each block signed by
 *   the operator, written with one write() and fsync'd before the next (the ledger's durability);
 * - verify: verifyBytes over the whole chain file read from disk: every line's canonical form,
 *   every Merkle root, block hash and signature, every transaction's rules, nonce and signature;
 * - the bounds: bare Ed25519 sign and verify of a transaction-sized message, and one fsync.
 * Each figure is the median of 3 runs.
 */

const RUNS = 3;
const N = Number(process.argv[2] ?? 20_000);
const BLOCK_SIZES = [1, 100, 1000];
const PROSUMERS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'];
const clock = () => 1_700_000_000_000;

function setup(): { dir: string; ledger: Ledger; keys: Map<string, KeyObject> } {
  const dir = mkdtempSync(join(tmpdir(), 'rescoin-bench-ledger-'));
  const ledger = Ledger.init(dir, { clock });
  for (const p of PROSUMERS) ledger.register(p);
  const keys = new Map(PROSUMERS.map((p) => [p, loadPrivateKey(dir, p)]));
  return { dir, ledger, keys };
}

/** Append n signed transactions in blocks of b; returns { seconds, blocks, bytes } of the appends. */
function append(n: number, b: number): { dir: string; seconds: number; blocks: number } {
  const { dir, ledger, keys } = setup();
  const rng = new Rng(5);
  const h0 = ledger.height;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const to = PROSUMERS[rng.int(0, 7)];
    if (i % 5 === 0 || i < 8) ledger.submit(ledger.signMint({ to: PROSUMERS[i % 8], amount: 50_000_000, reason: `bench day ${i}`, day: i, seed: i, meterSha256: sha256Hex(`meter ${i}`) }));
    else {
      let from = PROSUMERS[rng.int(0, 7)];
      if (from === to) from = PROSUMERS[(PROSUMERS.indexOf(to) + 1) % 8];
      ledger.submit(ledger.signTransfer({ from, to, amount: rng.int(1, 1000), memo: 'energy' }, keys.get(from)));
    }
    if ((i + 1) % b === 0) ledger.commit();
  }
  ledger.commit();
  const seconds = (performance.now() - t0) / 1000;
  const blocks = ledger.height - h0;
  ledger.close();
  return { dir, seconds, blocks };
}

function bareCrypto(n: number): { signPerSec: number; verifyPerSec: number } {
  const { privateKey, publicKey } = generateKeyPair();
  const msgs = Array.from({ length: n }, (_, i) => Buffer.from(`rescoin/tx/v1\n${'a'.repeat(64)}\n{"amount":${i},"from":"p1","memo":"energy","nonce":${i},"to":"p2","type":"transfer"}`));
  let t0 = performance.now();
  const sigs = msgs.map((m) => sign(null, m, privateKey));
  const signPerSec = n / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  let ok = 0;
  for (let i = 0; i < n; i++) if (verify(null, msgs[i], publicKey, sigs[i])) ok++;
  const verifyPerSec = n / ((performance.now() - t0) / 1000);
  if (ok !== n) throw new Error('bare verify failed');
  return { signPerSec, verifyPerSec };
}

const appendRuns: Record<number, { txPerSec: number; blocksPerSec: number; blocks: number; txs: number }> = {};
let verifyRates: number[] = [];
let chainBytes = 0;
for (const b of BLOCK_SIZES) {
  // One transaction per block is one fsync per transaction: fewer of them, or it takes minutes.
  const n = b === 1 ? Math.min(N, 2000) : N;
  const rates: number[] = [];
  let blocks = 0;
  for (let r = 0; r < RUNS; r++) {
    const res = append(n, b);
    rates.push(n / res.seconds);
    blocks = res.blocks;
    if (b === 1000) {
      // Verify the chain just written, from its bytes on disk.
      const bytes = readFileSync(chainPath(res.dir));
      chainBytes = statSync(chainPath(res.dir)).size;
      const t0 = performance.now();
      const v = verifyBytes(bytes);
      const s = (performance.now() - t0) / 1000;
      if (!v.ok) throw new Error(`verify failed: ${v.reason}`);
      verifyRates.push(v.txs / s);
    }
    rmSync(res.dir, { recursive: true, force: true });
  }
  const tx = median(rates);
  appendRuns[b] = { txPerSec: Math.round(tx), blocksPerSec: Math.round(tx / b), blocks, txs: n };
}
verifyRates = [median(verifyRates)];
const bare = bareCrypto(20_000);

const FS_TYPES: Record<number, string> = { 0xef53: 'ext2/3/4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlayfs' };
const fsType = statfsSync(tmpdir()).type;
const results = {
  transactions: N,
  directory: tmpdir(),
  filesystem: FS_TYPES[fsType] ?? `0x${fsType.toString(16)}`,
  appendByBlockSize: Object.fromEntries(Object.entries(appendRuns).map(([b, r]) => [`${b} tx/block`, r])),
  appendTxPerSec: appendRuns[1000].txPerSec,
  appendBlockSize: 1000,
  verifyTxPerSec: Math.round(verifyRates[0]),
  chainBytes,
  bytesPerTx: Math.round(chainBytes / N),
  bareEd25519SignPerSec: Math.round(bare.signPerSec),
  bareEd25519VerifyPerSec: Math.round(bare.verifyPerSec),
  goals: { appendTxPerSec: 5000, verifyTxPerSec: 20000 },
  notes:
    'one thread; append = sign (sender; the state check knows the key is the sender\'s registered key, so it does not re-verify a signature it just made) + check + queue, then per block: operator signature, one write, fsync; 1 tx in 5 a mint, the rest transfers among 8 prosumers; verify = every check of verify() on the chain bytes, signatures included (one Ed25519 verify per tx + one per block), bounded by node:crypto (OpenSSL) Ed25519 verify; median of 3 runs',
};
const path = writeResults('ledger', results);
console.log(`ledger benchmark, one thread, ${N.toLocaleString('en-US')} transactions, median of ${RUNS} runs, chain in ${results.directory} (${results.filesystem})`);
for (const [b, r] of Object.entries(appendRuns))
  console.log(`  append, ${b.padStart(4)} tx/block (fsync per block): ${r.txPerSec.toLocaleString('en-US').padStart(7)} tx/s  (${r.txs.toLocaleString('en-US')} tx in ${r.blocks.toLocaleString('en-US')} blocks)`);
console.log(`  verify (all checks, signatures included): ${results.verifyTxPerSec.toLocaleString('en-US')} tx/s  (${(chainBytes / 1e6).toFixed(1)} MB chain, ${results.bytesPerTx} B/tx)`);
console.log(`  bare node:crypto Ed25519: sign ${results.bareEd25519SignPerSec.toLocaleString('en-US')}/s, verify ${results.bareEd25519VerifyPerSec.toLocaleString('en-US')}/s (the ceiling of verify)`);
console.log(`wrote ${path}`);
