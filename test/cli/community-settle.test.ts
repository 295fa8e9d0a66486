import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settleCommand } from '../../cli/community-settle.js';
import { main } from '../../cli/main.js';
import { heldOutDay } from '../../env/index.js';
import { chainPath, readBlocks } from '../../ledger/index.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  const io = { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } };
  return { out, io };
}

const args = (ledger: string, more: Record<string, unknown> = {}) => ({ community: 'citylearn-9', ledger, days: 2, seed: 100000, policy: 'asap', json: false, ...more });

describe('rescoin community settle', () => {
  it('creates the ledger, settles each day as a block, prints the bills and passes ledger verify', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rescoin-settle-cli-')), 'L');
    const { out, io } = capture();
    expect(await settleCommand.run(args(dir), io)).toBe(0);
    expect(out.stdout).toContain(`created ledger ${dir}`);
    expect(out.stdout).toMatch(new RegExp(`day 0 \\(seed ${heldOutDay(0)}\\): block 1, 9 payouts, \\d+ deposits, \\d+ transfers, 9 new accounts`));
    expect(out.stdout).toMatch(new RegExp(`day 1 \\(seed ${heldOutDay(1)}\\): block 2, `));
    expect(out.stdout).toMatch(/ {2}home +bill +grid part +internal part +RSC sent/);
    expect(out.stdout).toMatch(/\n {2}b9 +−?\d+\.\d{4} €/);
    expect(out.stdout).toContain('every internal part equals the bills to the µRSC');
    expect(out.stdout).toContain(`rescoin ledger verify --dir ${dir}`);
    expect(readBlocks(dir)).toHaveLength(3);
    const verify = capture();
    expect(await main(['ledger', 'verify', '--dir', dir], verify.io)).toBe(0);
    expect(verify.out.stdout).toMatch(/^valid: 3 blocks/);

    // The same days again, from the command line: exit 1 naming the block, nothing written.
    const before = readFileSync(chainPath(dir));
    const again = capture();
    expect(await main(['community', 'settle', '--community', 'citylearn-9', '--ledger', dir, '--days', '2'], again.io)).toBe(1);
    expect(again.out.stderr).toMatch(/^rescoin community settle: community citylearn-9: day seed \d+ is already settled in block 1; a community day is paid once/);
    expect(readFileSync(chainPath(dir)).equals(before)).toBe(true);
  }, 120_000);

  it('--json gives each day, its transactions and the per-home parts; a later seed appends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rescoin-settle-cli-'));
    const { out, io } = capture();
    expect(await settleCommand.run(args(dir, { days: 1, seed: 7, json: true }), io)).toBe(0);
    const j = JSON.parse(out.stdout);
    expect(j).toMatchObject({ community: 'citylearn-9', ledger: dir, policy: 'asap', valueEur: 0.01, replayMaxDiff: 0 });
    expect(j.days).toHaveLength(1);
    expect(j.days[0]).toMatchObject({ day: 0, seed: heldOutDay(0, 7), height: 1 });
    const homes = j.days[0].perHome as { id: string; billEur: number; gridEur: number; internalEur: number; internalMicroRsc: number }[];
    expect(homes.map((h) => h.id)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9']);
    for (const h of homes) expect(h.gridEur + h.internalEur).toBeCloseTo(h.billEur, 12);
    expect(homes.reduce((a, h) => a + h.internalMicroRsc, 0)).toBe(0);
    const again = capture();
    expect(await settleCommand.run(args(dir, { days: 1, seed: 8, json: true }), again.io)).toBe(0);
    expect(JSON.parse(again.out.stdout).days[0]).toMatchObject({ height: 2, accounts: [] });
  }, 120_000);

  it('names the flag of a bad value: an unknown community, a bad policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rescoin-settle-cli-'));
    const bad = capture();
    expect(await main(['community', 'settle', '--community', 'nowhere', '--ledger', dir], bad.io)).toBe(2);
    expect(bad.out.stderr).toMatch(/--community: unknown community "nowhere"/);
    const policy = capture();
    expect(await main(['community', 'settle', '--community', 'citylearn-9', '--ledger', dir, '--policy', 'milp'], policy.io)).toBe(2);
    expect(policy.out.stderr).toMatch(/--policy/);
  });
});
