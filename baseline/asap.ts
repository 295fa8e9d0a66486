import { noManagementAction, type Policy } from '../env/index.js';

/**
 * No management (ASAP): every request starts at its release slot and runs as soon as allowed; the
 * EV charges at the highest level that fits while it needs energy. The environment's RESCoin peak
 * reference is this same rule (env/rules.ts).
 */
export function asapPolicy(): Policy {
  let out = new Int32Array(0);
  return {
    name: 'asap',
    act(_obs, info) {
      if (out.length !== info.home.nvec.length) out = new Int32Array(info.home.nvec.length);
      return noManagementAction(info.home, out);
    },
  };
}
