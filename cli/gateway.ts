import { writeFileSync } from 'node:fs';
import { exampleDay, ReplayError, replayDay } from '../export/gateway.js';
import { defineCommand, println } from './command.js';
import { UsageError } from './errors.js';

const COLUMNS_HELP = [
  'Replay CSV: a header, then one row per slot 0, 1, 2, … (96 for a day):',
  '  slot (0…95), weekend (0/1), base_kw (fixed loads now, kW), pv_kw (PV now, kW),',
  '  pv_next_1h_kw, pv_next_4h_kw (PV forecast: mean over the next 4 / 16 slots, kW),',
  '  <appliance>_deadline per appliance of policy.json (last slot of the pending request; empty: none),',
  '  with an EV: ev_home (0/1), ev_soc_kwh (charger reading; needed on the first row and when the EV',
  '  comes back, empty otherwise), ev_due_slot (departure or 96), ev_target_kwh (SoC needed by then),',
  '  ev_floor_kwh (lowest SoC allowed after the slot; empty: derived from the target).',
  'Output: one JSON line per appliance and for the EV per slot: {slot, time, device, command, power (kW)}.',
  'The gateway keeps the cycles run, the running import peak and the EV SoC between readings from its own commands.',
].join('\n');

export const gatewayCommand = defineCommand({
  name: 'gateway',
  summary: 'Run an exported policy on a day of meter readings as a home gateway would; write its control messages as JSON lines',
  options: {
    policy: { type: 'string', required: true, description: 'Exported policy folder (rescoin export --out); loaded through its own policy.mjs' },
    replay: { type: 'string', description: 'Replay CSV: one row of readings and pending requests per slot (columns below)' },
    out: { type: 'string', description: 'Write the control messages (JSON lines) here instead of stdout' },
    'write-example': { type: 'string', description: "Instead: write a replay CSV of one day of the policy's scenario (the meter's record with the policy in control)" },
    seed: { type: 'number', default: 1, integer: true, min: 0, description: 'With --write-example: run seed K (day d is daySeed(K, d))' },
    day: { type: 'number', default: 0, integer: true, min: 0, description: 'With --write-example: day d of the seed' },
    scenario: { type: 'string', description: "With --write-example: scenario id or path, when the policy's is not found under its id" },
  },
  epilog: COLUMNS_HELP,
  check(a) {
    if ((a.replay === undefined) === (a['write-example'] === undefined)) throw new UsageError(['--replay', '--write-example'], 'expected exactly one of them');
  },
  async run(a, io) {
    if (a['write-example'] !== undefined) {
      const ex = await exampleDay(a.policy, a.seed, a.day, a.scenario);
      writeFileSync(a['write-example'], ex.csv);
      println(io.stderr, `wrote ${a['write-example']}: day ${a.day} of seed ${a.seed} with ${a.policy} in control (score J ${ex.summary.score.toFixed(4)} €, peak ${ex.summary.peakKw.toFixed(3)} kW)`);
      return;
    }
    let r;
    try {
      r = await replayDay(a.policy, a.replay!, a.out);
    } catch (e) {
      // A row the gateway cannot read is the replay file's fault: the error names its line and column.
      if (e instanceof ReplayError) throw new UsageError('--replay', e.message);
      throw e;
    }
    if (a.out === undefined) for (const msg of r.messages) io.stdout.write(`${JSON.stringify(msg)}\n`);
    println(io.stderr, `${r.slots.length} slots, ${r.messages.length} control messages${a.out ? ` written to ${a.out}` : ''}; running import peak ${r.peakKw.toFixed(3)} kW`);
  },
});
