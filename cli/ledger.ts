import type { Argv, CommandModule } from 'yargs';
import {
  formatRsc,
  Ledger,
  LedgerError,
  mintPayouts,
  OPERATOR,
  readBlocks,
  readPayouts,
  toMicroRsc,
  verifyLedger,
  type Block,
  type Tx,
} from '../ledger/index.js';

/**
 * `rescoin ledger …`: the RESCoin ledger from the command line (the rules and formats are in
 * ledger/ledger.ts, the folder in ledger/store.ts). Every command but verify opens the ledger,
 * which checks the whole chain and moves a torn last line aside (and says so on stderr); verify only
 * reads. A refused transaction or a damaged ledger exits 1, a bad flag value 2.
 */

const dirOption = { type: 'string', demandOption: true, describe: 'Ledger folder: chain.jsonl (the blocks) and keys/ (the accounts\' key pairs, 0600)' } as const;
const jsonOption = { type: 'boolean', default: false, describe: 'Print JSON instead of text' } as const;

/** Run a command; a LedgerError is the user's to fix: its message, exit 2 for a bad flag value, else 1. */
function guarded<A>(fn: (args: A) => void | Promise<void>): (args: A) => Promise<void> {
  return async (args: A) => {
    try {
      await fn(args);
    } catch (e) {
      if (!(e instanceof LedgerError)) throw e;
      console.error(`rescoin ledger: ${e.message}`);
      process.exitCode = e.message.startsWith('--') ? 2 : 1;
    }
  };
}

/** A subcommand with typed arguments (yargs' builder types do not follow a chain of options). */
function command<A>(name: string, describe: string, builder: (y: Argv) => Argv<unknown>, handler: (args: A) => void | Promise<void>): CommandModule<object, A> {
  return { command: name, describe, builder: builder as unknown as CommandModule<object, A>['builder'], handler: guarded(handler) as CommandModule<object, A>['handler'] };
}

function open(dir: string): Ledger {
  const ledger = Ledger.open(dir);
  const r = ledger.recovered;
  if (r)
    console.error(`rescoin ledger: recovered from a torn write: the last ${r.bytes} bytes (block ${r.height}, never completed) were moved aside to ${r.tornFile}; the ${r.height} complete blocks are kept`);
  return ledger;
}

const rsc = (micro: number) => `${formatRsc(micro)} RSC`;
const short = (hex: string) => `${hex.slice(0, 12)}…`;

/** A transfer amount from the command line: positive RSC with at most 6 decimals (1 µRSC). */
export function parseAmount(value: unknown, flag = '--amount'): number {
  const x = typeof value === 'number' ? value : Number.NaN;
  if (!Number.isFinite(x) || x <= 0) throw new LedgerError(`${flag} must be a positive number of RSC, got ${String(value)}`);
  const micro = toMicroRsc(x);
  if (micro / 1e6 !== x) throw new LedgerError(`${flag} ${x} has more than 6 decimals: the smallest amount is 0.000001 RSC (1 µRSC)`);
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

const init = command<{ dir: string; json: boolean }>(
  'init',
  "Create a ledger: the operator's key pair in keys/ and the genesis block",
  (y) => y.option('dir', dirOption).option('json', jsonOption),
  (a) => {
    const l = Ledger.init(a.dir);
    const operator = l.accounts().find((x) => x.name === OPERATOR)!.publicKey;
    if (a.json) console.log(JSON.stringify({ dir: a.dir, operator, genesis: l.head }, null, 2));
    else console.log(`created ledger ${a.dir}: operator key ${a.dir}/keys/${OPERATOR}.pem (0600), public key ${operator}; genesis block ${l.head}`);
    l.close();
  },
);

const keygen = command<{ dir: string; name: string; json: boolean }>(
  'keygen',
  'Make a prosumer account: a key pair in keys/NAME.pem (0600) and its registration in a block',
  (y) =>
    y
      .option('dir', dirOption)
      .option('name', { type: 'string', demandOption: true, describe: 'Account name: 1-32 characters a-z, 0-9, _ or -, starting with a letter' })
      .option('json', jsonOption),
  (a) => {
    const l = open(a.dir);
    const r = l.register(a.name);
    if (a.json) console.log(JSON.stringify({ name: a.name, publicKey: r.publicKey, keyFile: `${a.dir}/keys/${a.name}.pem`, block: r.block.height, created: r.created }, null, 2));
    else console.log(`${a.name}: ${r.created ? 'new key pair' : 'existing key'} ${a.dir}/keys/${a.name}.pem (0600), public key ${r.publicKey}; registered in block ${r.block.height}`);
    l.close();
  },
);

const mint = command<{ dir: string; report: string; name?: string; policy?: string; json: boolean }>(
  'mint',
  "Mint an evaluation report's payouts (its payouts.json) to a prosumer: one mint per day, in one block",
  (y) =>
    y
      .option('dir', dirOption)
      .option('report', { type: 'string', demandOption: true, describe: 'Report folder written by rescoin evaluate (reads its payouts.json)' })
      .option('name', { type: 'string', describe: "Prosumer to pay (default: the ledger's only prosumer)" })
      .option('policy', { type: 'string', describe: "The report's policy whose days are paid (default: the first that is not asap, cheapest or milp)" })
      .option('json', jsonOption),
  (a) => {
    const payouts = readPayouts(a.report);
    const l = open(a.dir);
    const r = mintPayouts(l, payouts, { report: a.report, policy: a.policy, to: a.name });
    if (a.json) console.log(JSON.stringify({ to: r.to, policy: r.policy, total: r.total, block: r.block?.height ?? null, minted: r.minted, skipped: r.skipped }, null, 2));
    else {
      const where = r.block ? ` in block ${r.block.height}` : '';
      console.log(`minted ${rsc(r.total)} to ${r.to}: ${r.minted.length} days of policy ${r.policy} from ${a.report}${where}; ${r.to} has ${rsc(l.balance(r.to))}`);
      if (r.skipped.length) console.log(`days ${r.skipped.join(', ')} paid 0 RSC: nothing minted for them`);
    }
    l.close();
  },
);

const transfer = command<{ dir: string; from: string; to: string; amount: number; memo: string; json: boolean }>(
  'transfer',
  'Pay RESCoin from one prosumer to another (e.g. for energy bought from a neighbour), signed with keys/FROM.pem',
  (y) =>
    y
      .option('dir', dirOption)
      .option('from', { type: 'string', demandOption: true, describe: 'Paying account (signs with keys/FROM.pem)' })
      .option('to', { type: 'string', demandOption: true, describe: 'Receiving account' })
      .option('amount', { type: 'number', demandOption: true, describe: 'RSC to pay: positive, at most 6 decimals' })
      .option('memo', { type: 'string', default: '', describe: 'Note stored with the transfer (at most 500 characters)' })
      .option('json', jsonOption),
  (a) => {
    const amount = parseAmount(a.amount);
    const l = open(a.dir);
    l.balance(a.from, '--from');
    l.balance(a.to, '--to');
    const block = l.append([l.signTransfer({ from: a.from, to: a.to, amount, memo: a.memo })]);
    if (a.json) console.log(JSON.stringify({ from: a.from, to: a.to, amount, block: block.height, balances: { [a.from]: l.balance(a.from), [a.to]: l.balance(a.to) } }, null, 2));
    else console.log(`${a.from} → ${a.to}: ${rsc(amount)} in block ${block.height}; ${a.from} has ${rsc(l.balance(a.from))}, ${a.to} ${rsc(l.balance(a.to))}`);
    l.close();
  },
);

const balance = command<{ dir: string; name?: string; json: boolean }>(
  'balance',
  'Balances (RSC) and nonces of the accounts, or of one',
  (y) => y.option('dir', dirOption).option('name', { type: 'string', describe: 'Only this account' }).option('json', jsonOption),
  (a) => {
    const l = open(a.dir);
    if (a.name !== undefined) l.balance(a.name, '--name');
    const rows = l.accounts().filter((x) => a.name === undefined || x.name === a.name);
    if (a.json) console.log(JSON.stringify(a.name === undefined ? { accounts: rows.map(({ name, balance, nonce, publicKey }) => ({ name, balance, nonce, publicKey })), supply: l.supply, height: l.height } : { name: rows[0].name, balance: rows[0].balance, nonce: rows[0].nonce }, null, 2));
    else {
      const w = Math.max(7, ...rows.map((r) => r.name.length));
      for (const r of rows) console.log(`${r.name.padEnd(w)}  ${rsc(r.balance).padStart(20)}  nonce ${r.nonce}`);
      if (a.name === undefined) console.log(`${'supply'.padEnd(w)}  ${rsc(l.supply).padStart(20)}  (µRSC exact; block ${l.height}, head ${short(l.head)})`);
    }
    l.close();
  },
);

const verify = command<{ dir: string; json: boolean }>(
  'verify',
  'Check every block: hashes, Merkle roots, signatures, nonces, balances (exit 0 valid, 1 not, naming the first bad block)',
  (y) => y.option('dir', dirOption).option('json', jsonOption),
  (a) => {
    const r = verifyLedger(a.dir);
    if (a.json) console.log(JSON.stringify(r, null, 2));
    else if (r.ok) console.log(`valid: ${r.height + 1} blocks, ${r.txs} transactions, ${r.accounts} prosumers, supply ${rsc(r.supply)}; head ${r.head}`);
    else console.log(`INVALID at block ${r.height}: ${r.reason.replace(/^block \d+: /, '')}`);
    process.exitCode = r.ok ? 0 : 1;
  },
);

const show = command<{ dir: string; last: number; json: boolean }>(
  'show',
  'Print the last blocks and their transactions',
  (y) =>
    y
      .option('dir', dirOption)
      .option('last', { type: 'number', default: 5, describe: 'How many blocks, from the head back' })
      .option('json', { ...jsonOption, describe: 'Print the blocks as stored (JSON)' })
      .check((x) => {
        if (!Number.isInteger(x.last) || (x.last as number) < 1) throw new Error(`--last must be a positive integer, got ${x.last}`);
        return true;
      }),
  (a) => {
    open(a.dir).close();
    const blocks = readBlocks(a.dir).slice(-a.last);
    if (a.json) console.log(JSON.stringify(blocks, null, 2));
    else console.log(blocks.map(describeBlock).join('\n'));
  },
);

/** `rescoin ledger <command>`, for `yargs.command(ledgerCommand)`. */
export const ledgerCommand: CommandModule = {
  command: 'ledger',
  describe: 'The RESCoin ledger: keys, signed mints of evaluation payouts, transfers, balances, verify',
  builder: (y) =>
    y
      .command(init)
      .command(keygen)
      .command(mint)
      .command(transfer)
      .command(balance)
      .command(verify)
      .command(show)
      .demandCommand(1, 'Give a ledger command: init, keygen, mint, transfer, balance, verify or show (see rescoin ledger --help)'),
  handler: () => {},
};

/** Register the `ledger` command group on a yargs instance. */
export function addLedgerCommand<T>(y: Argv<T>): Argv<T> {
  return y.command(ledgerCommand);
}
