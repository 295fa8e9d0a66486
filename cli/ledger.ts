import { formatRsc, Ledger, mintPayouts, OPERATOR, readBlocks, readPayouts, toMicroRsc, verifyLedger, type Block, type Tx } from '../ledger/index.js';
import { defineCommand, println, type CommandGroup, type Io } from './command.js';
import { UsageError } from './errors.js';

/**
 * `rescoin ledger …`: the RESCoin ledger from the command line (the rules and formats are in
 * ledger/ledger.ts, the folder in ledger/store.ts). Every command but verify opens the ledger,
 * which checks the whole chain and moves a torn last line aside (and says so on stderr); verify only
 * reads. A refused transaction or a damaged ledger exits 1, a bad flag value 2: a LedgerError about
 * a field the user gave (its `field`) is that flag's usage error (main.ts).
 */

const dir = { type: 'string', required: true, description: "Ledger folder: chain.jsonl (the blocks) and keys/ (the accounts' key pairs, 0600)" } as const;
const json = { type: 'boolean', default: false, description: 'Print JSON instead of text' } as const;

/** Open a ledger, saying on stderr when a torn write was moved aside. */
export function openLedger(path: string, io: Io, who = 'rescoin ledger'): Ledger {
  const ledger = Ledger.open(path);
  const r = ledger.recovered;
  if (r) println(io.stderr, `${who}: recovered from a torn write: the last ${r.bytes} bytes (block ${r.height}, never completed) were moved aside to ${r.tornFile}; the ${r.height} complete blocks are kept`);
  return ledger;
}

const rsc = (micro: number) => `${formatRsc(micro)} RSC`;
const short = (hex: string) => `${hex.slice(0, 12)}…`;

/** A transfer amount from the command line: positive RSC with at most 6 decimals (1 µRSC). */
export function parseAmount(x: number, flag = '--amount'): number {
  if (!(x > 0)) throw new UsageError(flag, `must be a positive number of RSC, got ${x}`);
  const micro = toMicroRsc(x);
  if (micro / 1e6 !== x) throw new UsageError(flag, `${x} has more than 6 decimals: the smallest amount is 0.000001 RSC (1 µRSC)`);
  return micro;
}

function describeTx(tx: Tx): string {
  if (tx.type === 'account') return `account   ${tx.name} registered (key ${short(tx.publicKey)})  nonce ${tx.nonce}`;
  const what = `${tx.from} → ${tx.to}`.padEnd(22);
  const note = tx.type === 'mint' ? `"${tx.reason}" meter ${short(tx.meterSha256)}` : tx.memo ? `"${tx.memo}"` : '';
  return `${tx.type.padEnd(9)} ${what} ${rsc(tx.amount).padStart(18)}  nonce ${tx.nonce}  ${note}`.trimEnd();
}

function describeBlock(b: Block): string {
  const head = `block ${b.height}  ${new Date(b.time).toISOString()}  hash ${short(b.hash)}  prev ${short(b.prev)}  ${b.txs.length} tx`;
  const lines = b.txs.map((t) => `  ${describeTx(t)}`);
  if (b.operator) lines.unshift(`  genesis: operator key ${b.operator}`);
  return [head, ...lines].join('\n');
}

const init = defineCommand({
  name: 'init',
  summary: "Create a ledger: the operator's key pair in keys/ and the genesis block",
  options: { dir, json },
  run(a, io) {
    const l = Ledger.init(a.dir);
    const operator = l.accounts().find((x) => x.name === OPERATOR)!.publicKey;
    if (a.json) println(io.stdout, JSON.stringify({ dir: a.dir, operator, genesis: l.head }, null, 2));
    else println(io.stdout, `created ledger ${a.dir}: operator key ${a.dir}/keys/${OPERATOR}.pem (0600), public key ${operator}; genesis block ${l.head}`);
    l.close();
  },
});

const keygen = defineCommand({
  name: 'keygen',
  summary: 'Make a prosumer account: a key pair in keys/NAME.pem (0600) and its registration in a block',
  options: { dir, name: { type: 'string', required: true, description: 'Account name: 1-32 characters a-z, 0-9, _ or -, starting with a letter' }, json },
  run(a, io) {
    const l = openLedger(a.dir, io);
    const r = l.register(a.name);
    if (a.json) println(io.stdout, JSON.stringify({ name: a.name, publicKey: r.publicKey, keyFile: `${a.dir}/keys/${a.name}.pem`, block: r.block.height, created: r.created }, null, 2));
    else println(io.stdout, `${a.name}: ${r.created ? 'new key pair' : 'existing key'} ${a.dir}/keys/${a.name}.pem (0600), public key ${r.publicKey}; registered in block ${r.block.height}`);
    l.close();
  },
});

const mint = defineCommand({
  name: 'mint',
  summary: "Mint an evaluation report's payouts (its payouts.json) to a prosumer: one mint per day, in one block",
  options: {
    dir,
    report: { type: 'string', required: true, description: 'Report folder written by rescoin evaluate (reads its payouts.json)' },
    name: { type: 'string', description: "Prosumer to pay (default: the ledger's only prosumer)" },
    policy: { type: 'string', description: "The report's policy whose days are paid (default: the first that is not asap, cheapest or milp)" },
    json,
  },
  fields: { to: '--name' },
  run(a, io) {
    const payouts = readPayouts(a.report);
    const l = openLedger(a.dir, io);
    const r = mintPayouts(l, payouts, { report: a.report, policy: a.policy, to: a.name });
    if (a.json) println(io.stdout, JSON.stringify({ to: r.to, policy: r.policy, total: r.total, block: r.block?.height ?? null, minted: r.minted, skipped: r.skipped }, null, 2));
    else {
      const where = r.block ? ` in block ${r.block.height}` : '';
      println(io.stdout, `minted ${rsc(r.total)} to ${r.to}: ${r.minted.length} days of policy ${r.policy} from ${a.report}${where}; ${r.to} has ${rsc(l.balance(r.to))}`);
      if (r.skipped.length) println(io.stdout, `days ${r.skipped.join(', ')} paid 0 RSC: nothing minted for them`);
    }
    l.close();
  },
});

const transfer = defineCommand({
  name: 'transfer',
  summary: 'Pay RESCoin from one prosumer to another (e.g. for energy bought from a neighbour), signed with keys/FROM.pem',
  options: {
    dir,
    from: { type: 'string', required: true, description: 'Paying account (signs with keys/FROM.pem)' },
    to: { type: 'string', required: true, description: 'Receiving account' },
    amount: { type: 'number', required: true, description: 'RSC to pay: positive, at most 6 decimals' },
    memo: { type: 'string', default: '', description: 'Note stored with the transfer (at most 500 characters)' },
    json,
  },
  run(a, io) {
    const amount = parseAmount(a.amount);
    const l = openLedger(a.dir, io);
    l.balance(a.from, 'from');
    l.balance(a.to, 'to');
    const block = l.append([l.signTransfer({ from: a.from, to: a.to, amount, memo: a.memo })]);
    if (a.json) println(io.stdout, JSON.stringify({ from: a.from, to: a.to, amount, block: block.height, balances: { [a.from]: l.balance(a.from), [a.to]: l.balance(a.to) } }, null, 2));
    else println(io.stdout, `${a.from} → ${a.to}: ${rsc(amount)} in block ${block.height}; ${a.from} has ${rsc(l.balance(a.from))}, ${a.to} ${rsc(l.balance(a.to))}`);
    l.close();
  },
});

const balance = defineCommand({
  name: 'balance',
  summary: 'Balances (RSC) and nonces of the accounts, or of one',
  options: { dir, name: { type: 'string', description: 'Only this account' }, json },
  run(a, io) {
    const l = openLedger(a.dir, io);
    if (a.name !== undefined) l.balance(a.name, 'name');
    const rows = l.accounts().filter((x) => a.name === undefined || x.name === a.name);
    if (a.json)
      println(io.stdout, JSON.stringify(a.name === undefined ? { accounts: rows.map(({ name, balance, nonce, publicKey }) => ({ name, balance, nonce, publicKey })), supply: l.supply, height: l.height } : { name: rows[0].name, balance: rows[0].balance, nonce: rows[0].nonce }, null, 2));
    else {
      const w = Math.max(7, ...rows.map((r) => r.name.length));
      for (const r of rows) println(io.stdout, `${r.name.padEnd(w)}  ${rsc(r.balance).padStart(20)}  nonce ${r.nonce}`);
      if (a.name === undefined) println(io.stdout, `${'supply'.padEnd(w)}  ${rsc(l.supply).padStart(20)}  (µRSC exact; block ${l.height}, head ${short(l.head)})`);
    }
    l.close();
  },
});

const verify = defineCommand({
  name: 'verify',
  summary: 'Check every block: hashes, Merkle roots, signatures, nonces, balances (exit 0 valid, 1 not, naming the first bad block)',
  options: { dir, json },
  run(a, io) {
    const r = verifyLedger(a.dir);
    if (a.json) println(io.stdout, JSON.stringify(r, null, 2));
    else if (r.ok) println(io.stdout, `valid: ${r.height + 1} blocks, ${r.txs} transactions, ${r.accounts} prosumers, supply ${rsc(r.supply)}; head ${r.head}`);
    else println(io.stdout, `INVALID at block ${r.height}: ${r.reason.replace(/^block \d+: /, '')}`);
    return r.ok ? 0 : 1;
  },
});

const show = defineCommand({
  name: 'show',
  summary: 'Print the last blocks and their transactions',
  options: { dir, last: { type: 'number', default: 5, integer: true, min: 1, description: 'How many blocks, from the head back' }, json: { ...json, description: 'Print the blocks as stored (JSON)' } },
  run(a, io) {
    openLedger(a.dir, io).close();
    const blocks = readBlocks(a.dir).slice(-a.last);
    if (a.json) println(io.stdout, JSON.stringify(blocks, null, 2));
    else println(io.stdout, blocks.map(describeBlock).join('\n'));
  },
});

export const ledgerCommand: CommandGroup = {
  name: 'ledger',
  summary: 'The RESCoin ledger: keys, signed mints of evaluation payouts, transfers, balances, verify',
  commands: [init, keygen, mint, transfer, balance, verify, show],
};
