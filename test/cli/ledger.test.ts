import { describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainPath, toMicroRsc } from '../../ledger/index.js';
import { tmp } from '../ledger/helpers.js';
import { rescoin as run, rescoinJson as json } from './run.js';

describe('rescoin ledger CLI', () => {
  it('every subcommand documents its flags', async () => {
    const top = await run('ledger', '--help');
    expect(top.status).toBe(0);
    for (const c of ['init', 'keygen', 'mint', 'transfer', 'balance', 'verify', 'show']) expect(top.stdout).toContain(`rescoin ledger ${c}`);
    const flags: Record<string, string[]> = {
      init: ['--dir', '--json'],
      keygen: ['--dir', '--name', '--json'],
      mint: ['--dir', '--report', '--name', '--policy', '--json'],
      transfer: ['--dir', '--from', '--to', '--amount', '--memo', '--json'],
      balance: ['--dir', '--name', '--json'],
      verify: ['--dir', '--json'],
      show: ['--dir', '--last', '--json'],
    };
    for (const [c, fs] of Object.entries(flags)) {
      const h = (await run('ledger', c, '--help')).stdout;
      for (const f of fs) expect(h, `${c} ${f}`).toMatch(new RegExp(`${f} +\\S`));
    }
    expect((await run('evaluate', '--help')).stdout).toMatch(/--ledger[\s\S]*--prosumer[\s\S]*--ledger-policy/);
  });

  it('evaluate --ledger mints the payouts; mint, transfer, balance, verify and show', async () => {
    const dir = tmp('cli');
    const L = join(dir, 'L');
    const report = join(dir, 'report');
    expect((await json('ledger', 'init', '--dir', L)).genesis).toMatch(/^[0-9a-f]{64}$/);
    expect((await json('ledger', 'keygen', '--dir', L, '--name', 'alice')).block).toBe(1);
    expect((await run('ledger', 'keygen', '--dir', L, '--name', 'bob')).stdout).toMatch(/^bob: new key pair .*keys\/bob\.pem \(0600\).*registered in block 2/);

    // Two prosumers: evaluate must be told whom to pay, before it evaluates.
    const who = await run('evaluate', '--days', '1', '--out', report, '--ledger', L, '--ledger-policy', 'cheapest', '--json');
    expect(who.status).toBe(2);
    expect(who.stderr).toContain('--prosumer: the ledger has several prosumers (alice, bob)');
    const ev = await run('evaluate', '--days', '1', '--out', report, '--ledger', L, '--ledger-policy', 'cheapest', '--prosumer', 'alice', '--json');
    expect(ev.status, ev.stderr).toBe(0);
    expect(ev.stderr).toMatch(/minted [\d.]+ RSC to alice \(1 days of cheapest\)/);
    const payouts = JSON.parse(readFileSync(join(report, 'payouts.json'), 'utf8'));
    expect(payouts.policies.map((p: { name: string }) => p.name)).toEqual(['asap', 'cheapest', 'precharge', 'mpc', 'milp']);
    // days.csv, payouts.json and the ledger hold the same payout.
    const csv = readFileSync(join(report, 'days.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const col = csv[0].indexOf('rescoin');
    const rscOf = (policy: string) => Number(csv.find((r) => r[0] === policy)![col]);
    expect(payouts.policies[1].days[0].rescoin).toBe(rscOf('cheapest'));
    expect((await json('ledger', 'balance', '--dir', L, '--name', 'alice')).balance).toBe(toMicroRsc(rscOf('cheapest')));

    // The same meter data is never paid twice; the MILP's days to bob.
    const again = await run('ledger', 'mint', '--dir', L, '--report', report, '--policy', 'cheapest', '--name', 'alice');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/day 0 .* already paid to "alice"; nothing was minted/);
    const pick = await run('ledger', 'mint', '--dir', L, '--report', report, '--name', 'bob');
    expect(pick.status).toBe(2);
    expect(pick.stderr).toContain('--policy: the report has only baseline policies (asap, cheapest, precharge, mpc, milp)');
    const m = await json('ledger', 'mint', '--dir', L, '--report', report, '--policy', 'milp', '--name', 'bob');
    expect(m.total).toBe(toMicroRsc(rscOf('milp')));

    // Transfers: a neighbour pays for energy; errors name the field and the value.
    const t = await json('ledger', 'transfer', '--dir', L, '--from', 'bob', '--to', 'alice', '--amount', '0.25', '--memo', '1 kWh at 12:00');
    expect(t.amount).toBe(250_000);
    const unknown = await run('ledger', 'transfer', '--dir', L, '--from', 'bob', '--to', 'carol', '--amount', '1');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--to: unknown account "carol" (accounts: operator, alice, bob)');
    const zero = await run('ledger', 'transfer', '--dir', L, '--from', 'bob', '--to', 'alice', '--amount', '0');
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('rescoin ledger transfer: --amount: must be a positive number of RSC, got 0');
    const much = await run('ledger', 'transfer', '--dir', L, '--from', 'alice', '--to', 'bob', '--amount', '1000000');
    expect(much.status).toBe(1);
    expect(much.stderr).toMatch(/transfer refused: amount: "alice" has [\d.]+ RSC, the transfer needs 1000000 RSC/);

    const b = await json('ledger', 'balance', '--dir', L);
    const sum = b.accounts.reduce((a: number, x: { balance: number }) => a + x.balance, 0);
    expect(sum).toBe(b.supply);
    expect(b.supply).toBe(toMicroRsc(rscOf('cheapest')) + toMicroRsc(rscOf('milp')));

    const ok = await run('ledger', 'verify', '--dir', L);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^valid: 6 blocks, 5 transactions, 2 prosumers/);
    const shown = await json('ledger', 'show', '--dir', L, '--last', '2');
    expect(shown.map((x: { height: number }) => x.height)).toEqual([4, 5]);
    expect((await run('ledger', 'show', '--dir', L, '--last', '1')).stdout).toMatch(/block 5 .*\n {2}transfer +bob → alice +0\.25 RSC +nonce 1 +"1 kWh at 12:00"/);

    // Tampering: one byte of block 3 changed.
    const good = readFileSync(chainPath(L));
    const bad = Buffer.from(good);
    let start = 0;
    for (let k = 0; k < 3; k++) start = good.indexOf(0x0a, start) + 1;
    bad[start + 40] = bad[start + 40] === 0x30 ? 0x31 : 0x30;
    writeFileSync(chainPath(L), bad);
    const v = await run('ledger', 'verify', '--dir', L);
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/^INVALID at block 3: /);
    const refused = await run('ledger', 'balance', '--dir', L);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/is not valid at block 3/);
    writeFileSync(chainPath(L), good);

    // A torn write: reported and moved aside by the next command; nothing else lost.
    appendFileSync(chainPath(L), '{"hash":"00');
    const torn = await run('ledger', 'balance', '--dir', L, '--name', 'bob');
    expect(torn.status).toBe(0);
    expect(torn.stderr).toMatch(/recovered from a torn write: the last 11 bytes \(block 6, never completed\) were moved aside to .*chain\.jsonl\.torn-1; the 6 complete blocks are kept/);
    expect(readFileSync(chainPath(L)).equals(good)).toBe(true);
    expect((await run('ledger', 'verify', '--dir', L)).status).toBe(0);
  });

  it('init refuses an existing ledger and verify a missing one', async () => {
    const L = join(tmp('cli'), 'L');
    expect((await run('ledger', 'init', '--dir', L)).status).toBe(0);
    const twice = await run('ledger', 'init', '--dir', L);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toContain('already holds a ledger');
    const none = await run('ledger', 'verify', '--dir', join(L, 'nope'));
    expect(none.status).toBe(1);
    expect(none.stdout).toMatch(/INVALID at block 0: .*does not exist/);
    expect((await run('ledger', 'keygen', '--dir', L, '--name', 'Alice!')).stderr).toMatch(/--name: "Alice!" must be 1-32 characters/);
  });
});
