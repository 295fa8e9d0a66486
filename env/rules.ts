import { evPowerFits, evReserveKw, LIMIT_TOL, type HomeView } from './core.js';

export { isAllowed } from '../runtime/index.js';

/**
 * "No management" as DESIGN.md defines it, in the environment because the RESCoin peak reference
 * is the day played this way: every request runs from its release slot on, as soon as allowed, and
 * the EV charges at the highest level that fits while it still needs energy. The `asap` policy of
 * baseline/ plays exactly this.
 */
export function noManagementAction(view: HomeView, out: Int32Array): Int32Array {
  const n = view.powerKw.length;
  let appKw = 0;
  for (let i = 0; i < n; i++) {
    const run = view.mask[2 * i + 1] === 1 ? 1 : 0;
    out[i] = run;
    if (run) appKw += view.powerKw[i];
  }
  appKw -= fitUnderLimit(view, out, appKw);
  if (view.ev) out[n] = evLevelThatFits(view, view.baseKw + appKw - view.pvKw, view.ev.home && view.ev.neededKwh > LIMIT_TOL ? 'highest' : 'lowest');
  return out;
}

/**
 * The EV action index that is allowed by the mask and keeps the joint import under the contract,
 * given the net load `fixedNetKw` of everything else: the highest or the lowest such power.
 */
export function evLevelThatFits(view: HomeView, fixedNetKw: number, which: 'highest' | 'lowest'): number {
  const ev = view.ev!;
  const off = view.maskOffsets[view.powerKw.length];
  let best = -1;
  for (let k = 0; k < ev.levelsKw.length; k++) {
    if (!view.mask[off + k]) continue;
    const kw = ev.levelsKw[k];
    if (!evPowerFits(kw, fixedNetKw, view.limitKw)) continue;
    if (best < 0) best = k;
    else if (which === 'highest' ? kw > ev.levelsKw[best] : Math.abs(kw) < Math.abs(ev.levelsKw[best])) best = k;
  }
  return best < 0 ? 0 : best;
}

/** A uniformly drawn allowed value per appliance, then a uniformly drawn EV level that fits jointly. */
export function sampleAllowed(view: HomeView, rng: { int(lo: number, hi: number): number }, out: Int32Array): Int32Array {
  const n = view.powerKw.length;
  let appKw = 0;
  for (let i = 0; i < n; i++) {
    const both = view.mask[2 * i] && view.mask[2 * i + 1];
    out[i] = both ? rng.int(0, 1) : view.mask[2 * i + 1] ? 1 : 0;
    if (out[i]) appKw += view.powerKw[i];
  }
  appKw -= fitUnderLimit(view, out, appKw);
  if (view.ev) {
    const ev = view.ev;
    const off = view.maskOffsets[n];
    const fixed = view.baseKw + appKw - view.pvKw;
    const ok: number[] = [];
    for (let k = 0; k < ev.levelsKw.length; k++) {
      if (view.mask[off + k] && evPowerFits(ev.levelsKw[k], fixed, view.limitKw)) ok.push(k);
    }
    out[n] = ok[rng.int(0, ok.length - 1)];
  }
  return out;
}

/**
 * Under an operator's cap (HomeView.limitKw) optional runs that fit one by one may not fit
 * together, nor beside a charge the EV's floor forces: the last ones wait, as the controller's
 * fallback would make them. Returns the kW taken off. Under the contract alone it never binds (a
 * scenario's appliances and the day's EV headroom fit the contract).
 */
export function fitUnderLimit(view: HomeView, out: Int32Array, appKw: number): number {
  let off = 0;
  const reserve = view.limitKw < view.contractKw ? evReserveKw(view) : 0;
  for (let i = view.powerKw.length - 1; i >= 0 && appKw - off > 0 && view.baseKw + appKw - off - view.pvKw + reserve > view.limitKw + LIMIT_TOL; i--) {
    if (out[i] === 1 && view.mask[2 * i] === 1) {
      out[i] = 0;
      off += view.powerKw[i];
    }
  }
  return off;
}
