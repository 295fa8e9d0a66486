import { describe, expect, it } from 'vitest';
import { appendFileSync, chmodSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../env/index.js';
import {
  canonicalJson,
  chainPath,
  formatRsc,
  leafHash,
  Ledger,
  loadPrivateKey,
  makeBlock,
  merkleRoot,
  generateKeyPair,
  publicKeyHex,
  signTx,
  toMicroRsc,
  verifyLedger,
  type Tx,
} from '../../ledger/index.js';
import { clock, meter, mint, newLedger, tmp } from './helpers.js';

describe('amounts', () => {
  it('toMicroRsc rounds RSC to integer µRSC and formatRsc writes them back exactly', () => {
    expect(toMicroRsc(1)).toBe(1_000_000);
    expect(toMicroRsc(0.1)).toBe(100_000);
    expect(toMicroRsc(0.1 + 0.2)).toBe(300_000);
    expect(toMicroRsc(12.3456784)).toBe(12_345_678);
    expect(toMicroRsc(12.3456786)).toBe(12_345_679);
    expect(toMicroRsc(-2.5)).toBe(-2_500_000);
    expect(() => toMicroRsc(Number.NaN)).toThrow(/finite/);
    expect(() => toMicroRsc(1e12)).toThrow(/largest/);
    expect(formatRsc(12_345_678)).toBe('12.345678');
    expect(formatRsc(1_500_000)).toBe('1.5');
    expect(formatRsc(1)).toBe('0.000001');
    expect(formatRsc(0)).toBe('0');
  });

  it('the Merkle root depends on every transaction and their order, and never on a duplicated last leaf', () => {
    const l = ['a', 'b', 'c'].map((x) => leafHash(x));
    expect(merkleRoot(l)).not.toBe(merkleRoot([l[1], l[0], l[2]]));
    expect(merkleRoot(l)).not.toBe(merkleRoot([...l, l[2]]));
    expect(merkleRoot([])).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('keys', () => {
  it('saves key pairs as PEM files with mode 0600 and refuses a private key others can read', () => {
    const { dir } = newLedger(['alice']);
    for (const f of ['operator.pem', 'operator.pub.pem', 'alice.pem', 'alice.pub.pem']) {
      const path = join(dir, 'keys', f);
      expect(readFileSync(path, 'utf8')).toMatch(/^-----BEGIN (PRIVATE|PUBLIC) KEY-----/);
      if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);
    }
    if (process.platform !== 'win32') {
      const other = tmp('keys');
      Ledger.init(other, { clock });
      chmodSync(join(other, 'keys', 'operator.pem'), 0o644);
      expect(() => loadPrivateKey(other, 'operator')).toThrow(/mode 0644.*chmod 600/);
    }
  });
});

describe('ledger', () => {
  it('mints, transfers and keeps balances, nonces and the head across a reopen', () => {
    const { dir, ledger } = newLedger();
    mint(ledger, 'alice', 10, 1);
    ledger.append([ledger.signTransfer({ from: 'alice', to: 'bob', amount: toMicroRsc(2.5), memo: '3 kWh at noon' })]);
    expect(ledger.balance('alice')).toBe(7_500_000);
    expect(ledger.balance('bob')).toBe(2_500_000);
    expect(ledger.nextNonce('alice')).toBe(2);
    expect(ledger.height).toBe(4);
    const v = verifyLedger(dir);
    expect(v).toEqual({ ok: true, head: ledger.head, height: 4, txs: 4, supply: 10_000_000, accounts: 2 });
    const again = Ledger.open(dir, { clock });
    expect(again.recovered).toBeNull();
    expect(again.head).toBe(ledger.head);
    expect(again.accounts()).toEqual(ledger.accounts());
    // Every line of the file is its block's canonical JSON, and a block's time comes from the clock.
    const lines = readFileSync(chainPath(dir), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(canonicalJson(JSON.parse(l))).toBe(l);
    expect(JSON.parse(lines[4]).time).toBe(clock());
  });

  it('batches many transactions into one block with one Merkle root', () => {
    const { dir, ledger } = newLedger();
    for (let i = 0; i < 5; i++) ledger.submit(ledger.signMint({ to: 'alice', amount: 1000 + i, reason: 'batch', day: i, seed: i, meterSha256: meter(i) }));
    for (let i = 0; i < 3; i++) ledger.submit(ledger.signTransfer({ from: 'alice', to: 'bob', amount: 100 }));
    expect(ledger.pendingCount).toBe(8);
    const block = ledger.commit()!;
    expect(block.txs).toHaveLength(8);
    expect(ledger.commit()).toBeNull();
    expect(verifyLedger(dir).ok).toBe(true);
  });

  it('refuses a forged signature', () => {
    const { ledger } = newLedger();
    mint(ledger, 'alice', 5, 1);
    const tx = ledger.signTransfer({ from: 'alice', to: 'bob', amount: 1_000_000 });
    // Raise the amount after signing, or change one byte of the signature.
    expect(() => ledger.submit({ ...tx, amount: 2_000_000 })).toThrow(/transfer refused: sig: not a valid signature of "alice"/);
    const flipped = (parseInt(tx.sig[10], 16) ^ 1).toString(16);
    expect(() => ledger.submit({ ...tx, sig: tx.sig.slice(0, 10) + flipped + tx.sig.slice(11) })).toThrow(/sig: not a valid signature/);
    // Bob's key signing a transfer out of Alice's account.
    const bobKey = loadPrivateKey(ledger.dir, 'bob');
    const theft = signTx(ledger.chainId, { type: 'transfer', from: 'alice', to: 'bob', amount: 1_000_000, memo: '', nonce: 1 }, bobKey);
    expect(() => ledger.submit(theft)).toThrow(/sig: not a valid signature of "alice"/);
    expect(() => ledger.signTransfer({ from: 'alice', to: 'bob', amount: 1 }, bobKey)).toThrow(/not the key of account "alice"/);
    expect(ledger.balance('alice')).toBe(5_000_000);
    ledger.submit(tx);
    expect(ledger.balance('bob')).toBe(1_000_000);
  });

  it('refuses a replayed nonce, before and after the block is written', () => {
    const { ledger } = newLedger();
    mint(ledger, 'alice', 5, 1);
    const tx = ledger.signTransfer({ from: 'alice', to: 'bob', amount: 1_000_000 });
    ledger.submit(tx);
    expect(() => ledger.submit({ ...tx })).toThrow(/nonce 1 of "alice" is already used \(replayed transaction\); the next is 2/);
    ledger.commit();
    expect(() => ledger.submit({ ...tx })).toThrow(/replayed/);
    expect(() => ledger.submit({ ...tx, nonce: 7 })).toThrow(/nonce 7 of "alice" skips ahead/);
    expect(ledger.balance('alice')).toBe(4_000_000);
  });

  it('refuses a transfer above the balance and a double spend', () => {
    const { ledger } = newLedger(['alice', 'bob', 'carol']);
    mint(ledger, 'alice', 1, 1);
    expect(() => ledger.submit(ledger.signTransfer({ from: 'alice', to: 'bob', amount: 1_000_001 }))).toThrow(/amount: "alice" has 1 RSC, the transfer needs 1.000001 RSC/);
    // The same coins twice: each transfer alone fits, both together do not.
    ledger.submit(ledger.signTransfer({ from: 'alice', to: 'bob', amount: 600_000 }));
    expect(() => ledger.submit(ledger.signTransfer({ from: 'alice', to: 'carol', amount: 600_000 }))).toThrow(/has 0.4 RSC, the transfer needs 0.6 RSC/);
    ledger.commit();
    expect(ledger.balance('alice')).toBe(400_000);
    expect(ledger.balance('carol')).toBe(0);
    expect(() => ledger.append([ledger.signTransfer({ from: 'alice', to: 'dave', amount: 1 })])).toThrow(/to: unknown account "dave" \(accounts: operator, alice, bob, carol\)/);
    expect(() => ledger.submit({ ...ledger.signTransfer({ from: 'alice', to: 'bob', amount: 1 }), amount: 0 })).toThrow(/amount must be an integer ≥ 1, got 0/);
    // append() is all or nothing.
    const h = ledger.height;
    expect(() => ledger.append([ledger.signTransfer({ from: 'alice', to: 'bob', amount: 100_000 }), { ...ledger.signTransfer({ from: 'bob', to: 'alice', amount: 1 }), nonce: 9 }])).toThrow(/skips ahead/);
    expect(ledger.height).toBe(h);
    expect(ledger.balance('alice')).toBe(400_000);
    expect(ledger.pendingCount).toBe(0);
  });

  it('refuses a mint not signed by the operator, and the same meter data paid twice', () => {
    const { ledger } = newLedger();
    const aliceKey = loadPrivateKey(ledger.dir, 'alice');
    const body = { type: 'mint' as const, from: 'operator', to: 'alice', amount: 5_000_000, reason: 'self-service', day: 0, seed: 1, meterSha256: meter(1), nonce: ledger.nextNonce('operator') };
    expect(() => ledger.submit(signTx(ledger.chainId, body, aliceKey))).toThrow(/mint refused: sig: not a valid signature of "operator"/);
    expect(() => ledger.submit(signTx(ledger.chainId, { ...body, from: 'alice', nonce: 1 }, aliceKey))).toThrow(/a mint must come from the operator, not from "alice"/);
    // A signature from another ledger (another chain id) does not carry over.
    expect(() => ledger.submit(signTx('f'.repeat(64), body, loadPrivateKey(ledger.dir, 'operator')))).toThrow(/sig: not a valid signature of "operator"/);
    mint(ledger, 'alice', 5, 1);
    expect(() => mint(ledger, 'alice', 5, 1)).toThrow(/meterSha256: the meter data [0-9a-f]{64} was already paid to "alice"/);
    expect(ledger.balance('alice')).toBe(5_000_000);
  });

  it('verify names a block the operator signed that breaks a rule, or that another key signed', () => {
    const { dir, ledger } = newLedger();
    mint(ledger, 'alice', 1, 1);
    const opKey = loadPrivateKey(dir, 'operator');
    const aliceKey = loadPrivateKey(dir, 'alice');
    const good = readFileSync(chainPath(dir));
    const write = (txs: Tx[], key = opKey) => {
      const block = makeBlock({ height: ledger.height, head: ledger.head, time: clock() }, txs, txs.map((t) => leafHash(canonicalJson(t))), clock(), key);
      writeFileSync(chainPath(dir), Buffer.concat([good, Buffer.from(`${canonicalJson(block)}\n`)]));
    };
    const overdraft = signTx(ledger.chainId, { type: 'transfer', from: 'alice', to: 'bob', amount: 2_000_000, memo: '', nonce: 1 }, aliceKey);
    write([overdraft]);
    expect(verifyLedger(dir)).toEqual({ ok: false, height: 4, reason: expect.stringMatching(/^block 4: txs\[0\] \(transfer from alice, nonce 1\): amount: "alice" has 1 RSC, the transfer needs 2 RSC/) });
    const forgedMint = signTx(ledger.chainId, { type: 'mint', from: 'operator', to: 'alice', amount: 1, reason: '', day: 0, seed: 0, meterSha256: meter(9), nonce: ledger.nextNonce('operator') }, aliceKey);
    write([forgedMint]);
    expect(verifyLedger(dir)).toMatchObject({ ok: false, height: 4, reason: expect.stringMatching(/sig: not a valid signature of "operator"/) });
    write([], aliceKey);
    expect(verifyLedger(dir)).toMatchObject({ ok: false, height: 4, reason: "block 4: sig: not the operator's signature of this block" });
    expect(() => Ledger.open(dir)).toThrow(/is not valid at block 4/);
  });

  it('verify checks the genesis operator against keys/operator.pub.pem', () => {
    const { dir } = newLedger([]);
    const other = generateKeyPair();
    expect(verifyLedger(dir, { operatorPublicKey: publicKeyHex(other.publicKey) })).toMatchObject({ ok: false, height: 0, reason: expect.stringMatching(/is not the trusted operator key/) });
    expect(verifyLedger(dir).ok).toBe(true);
    expect(verifyLedger(join(dir, 'nowhere'))).toMatchObject({ ok: false, height: 0, reason: expect.stringMatching(/does not exist/) });
  });

  it('after random mints and transfers the balances sum to the mints and nothing is ever negative', () => {
    const names = ['alice', 'bob', 'carol', 'dave'];
    const { dir, ledger } = newLedger(names);
    const rng = new Rng(20240607);
    let minted = 0;
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      if (rng.float() < 0.3) {
        const amount = rng.int(1, 5_000_000);
        ledger.submit(ledger.signMint({ to: names[rng.int(0, 3)], amount, reason: 'fuzz', day: i, seed: i, meterSha256: meter(i) }));
        minted += amount;
      } else {
        const from = names[rng.int(0, 3)];
        let to = names[rng.int(0, 3)];
        if (to === from) to = names[(names.indexOf(from) + 1) % 4];
        const amount = rng.int(1, 3_000_000);
        try {
          ledger.submit(ledger.signTransfer({ from, to, amount }));
        } catch (e) {
          expect((e as Error).message).toMatch(/the transfer needs/);
          refused++;
        }
      }
      if (rng.float() < 0.2) ledger.commit();
    }
    ledger.commit();
    expect(refused).toBeGreaterThan(0);
    const balances = ledger.accounts().map((a) => a.balance);
    expect(Math.min(...balances)).toBeGreaterThanOrEqual(0);
    expect(balances.reduce((a, b) => a + b, 0)).toBe(minted);
    expect(ledger.supply).toBe(minted);
    const v = verifyLedger(dir);
    expect(v).toMatchObject({ ok: true, supply: minted, head: ledger.head });
  });

  it('refuses a second writer instead of forking the chain', () => {
    const { dir, ledger } = newLedger();
    const other = Ledger.open(dir, { clock });
    mint(ledger, 'alice', 1, 1);
    expect(() => mint(other, 'alice', 1, 2)).toThrow(/changed on disk/);
    expect(verifyLedger(dir).ok).toBe(true);
  });
});

describe('tamper evidence', () => {
  it('changing any single byte of any stored block makes verify fail at that block or an earlier one', () => {
    const { dir, ledger } = newLedger(['alice', 'bob', 'carol']);
    for (let i = 0; i < 4; i++) ledger.submit(ledger.signMint({ to: ['alice', 'bob'][i % 2], amount: 1_000_000 + i, reason: `day ${i}`, day: i, seed: i, meterSha256: meter(i) }));
    ledger.commit();
    ledger.submit(ledger.signTransfer({ from: 'alice', to: 'carol', amount: 250_000, memo: 'énergie 1 kWh' }));
    ledger.submit(ledger.signTransfer({ from: 'bob', to: 'alice', amount: 1 }));
    ledger.commit();
    mint(ledger, 'carol', 0.5, 9);
    const good = readFileSync(chainPath(dir));
    expect(verifyLedger(dir).ok).toBe(true);
    // Block k spans [starts[k], starts[k + 1]); its final "\n" is part of it.
    const starts = [0];
    for (let i = 0; i < good.length; i++) if (good[i] === 0x0a) starts.push(i + 1);
    const blocks = starts.length - 1;
    expect(blocks).toBe(7);
    const rng = new Rng(777);
    let tried = 0;
    for (let k = 0; k < blocks; k++) {
      const positions = [starts[k], starts[k + 1] - 1, starts[k + 1] - 2];
      for (let j = 0; j < 60; j++) positions.push(rng.int(starts[k], starts[k + 1] - 1));
      for (const pos of positions) {
        const bad = Buffer.from(good);
        let b = rng.int(0, 255);
        if (b === good[pos]) b = (b + 1 + rng.int(0, 253)) % 256;
        bad[pos] = b;
        writeFileSync(chainPath(dir), bad);
        const r = verifyLedger(dir);
        if (r.ok || r.height > k) throw new Error(`byte ${pos} of block ${k} set to ${b} (was ${good[pos]}): verify said ${JSON.stringify(r)}`);
        tried++;
      }
    }
    expect(tried).toBe(7 * 63);
    writeFileSync(chainPath(dir), good);
    expect(verifyLedger(dir).ok).toBe(true);
  });
});

describe('recovery', () => {
  function ledgerWithBlocks() {
    const { dir, ledger } = newLedger();
    mint(ledger, 'alice', 3, 1);
    ledger.append([ledger.signTransfer({ from: 'alice', to: 'bob', amount: 1_000_000 })]);
    ledger.close();
    return { dir, good: readFileSync(chainPath(dir)), blocks: ledger.height + 1 };
  }

  it('a torn last line is reported, moved aside whole, and the complete blocks are kept', () => {
    const { dir, good, blocks } = ledgerWithBlocks();
    const torn = '{"hash":"3f2a9c","height":5,"merkle":"ab';
    appendFileSync(chainPath(dir), torn);
    expect(verifyLedger(dir)).toMatchObject({ ok: false, height: blocks, reason: expect.stringMatching(/no trailing newline \(a torn write/) });
    const l = Ledger.open(dir, { clock });
    expect(l.recovered).toEqual({ height: blocks, bytes: torn.length, tornFile: `${chainPath(dir)}.torn-1` });
    expect(readFileSync(`${chainPath(dir)}.torn-1`, 'utf8')).toBe(torn);
    expect(readFileSync(chainPath(dir)).equals(good)).toBe(true);
    expect(l.balance('alice')).toBe(2_000_000);
    expect(l.balance('bob')).toBe(1_000_000);
    // Appending goes on from the kept blocks; a second torn tail gets the next name.
    mint(l, 'bob', 1, 2);
    expect(verifyLedger(dir)).toMatchObject({ ok: true, height: blocks });
    l.close();
    appendFileSync(chainPath(dir), '{"he');
    expect(Ledger.open(dir).recovered?.tornFile).toBe(`${chainPath(dir)}.torn-2`);
  });

  it('a whole block that lost its newline, or a last line that does not parse, is a torn tail too', () => {
    const { dir, good, blocks } = ledgerWithBlocks();
    truncateSync(chainPath(dir), good.length - 1);
    const l = Ledger.open(dir, { clock });
    const lastLine = good.subarray(good.lastIndexOf(0x0a, good.length - 2) + 1, good.length - 1);
    expect(l.recovered).toMatchObject({ height: blocks - 1, bytes: lastLine.length });
    expect(l.height).toBe(blocks - 2);
    expect(verifyLedger(dir).ok).toBe(true);
    l.close();
    appendFileSync(chainPath(dir), Buffer.from([0, 0, 0, 0x0a]));
    expect(verifyLedger(dir)).toMatchObject({ ok: false, height: blocks - 1, reason: expect.stringMatching(/does not parse/) });
    const again = Ledger.open(dir);
    expect(again.recovered).toMatchObject({ height: blocks - 1, bytes: 4 });
    expect(verifyLedger(dir).ok).toBe(true);
  });

  it('a bad block before the last line is not a torn write: open refuses and writes nothing', () => {
    const { dir, good } = ledgerWithBlocks();
    const bad = Buffer.from(good);
    bad[good.indexOf(0x0a) + 5] = 0x7b;
    writeFileSync(chainPath(dir), bad);
    expect(() => Ledger.open(dir)).toThrow(/is not valid at block 1: .*nothing was written/);
    expect(readFileSync(chainPath(dir)).equals(bad)).toBe(true);
    expect(existsSync(`${chainPath(dir)}.torn-1`)).toBe(false);
  });
});
