import { listScenarios, loadScenario } from '../env/index.js';
import { defineCommand, println } from './command.js';

export const scenariosCommand = defineCommand({
  name: 'scenarios',
  summary: 'List the built-in scenarios (data/scenarios/*.json)',
  options: {
    json: { type: 'boolean', default: false, description: 'Print [{ id, name, appliances, ev, v2h, contractKw, pvKwp }] instead of a list' },
  },
  run(args, io) {
    const rows = listScenarios().map((id) => {
      const s = loadScenario(id);
      return { id, name: s.name, appliances: s.appliances.length, ev: s.ev !== null, v2h: s.ev?.v2h ?? false, contractKw: s.grid.contractKw, pvKwp: s.pv.peakKw };
    });
    if (args.json) println(io.stdout, JSON.stringify(rows, null, 2));
    else for (const r of rows) println(io.stdout, `${r.id.padEnd(24)} ${r.name} (${r.appliances} appliances, ${r.contractKw} kW contract, ${r.pvKwp} kWp PV${r.ev ? `, EV${r.v2h ? ' with V2H' : ''}` : ''})`);
  },
});
