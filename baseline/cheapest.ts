import { evLevelThatFits, type Policy, type HomeView, type Scenario } from '../env/index.js';

/**
 * Cheapest slot (tariff only, ignoring the peak and the PV): each request runs in the cheapest
 * slots of what is left of its window, ties to the earliest; the EV charges at the highest level
 * that fits in the cheapest slots before its next requirement. Plans are remade every slot from
 * what the policy can see, so a request is placed when it is released.
 */
export function cheapestPolicy(scenario: Scenario): Policy {
  const price = scenario.priceKwh;
  const cycles = scenario.appliances.map((a) => a.cycleKw);
  const interruptible = scenario.appliances.map((a) => a.kind === 'interruptible');
  let out = new Int32Array(0);

  /** Non-interruptible: does the cheapest start in [t, deadline − len + 1] (earliest on ties) start now? */
  const startNow = (i: number, t: number, deadline: number): boolean => {
    const cycle = cycles[i];
    const cost = (s: number) => cycle.reduce((sum, kw, k) => sum + kw * price[s + k], 0);
    const here = cost(t);
    for (let s = t + 1; s + cycle.length - 1 <= deadline; s++) if (cost(s) < here - 1e-12) return false;
    return true;
  };
  /** Interruptible: is slot t among the `remaining` cheapest of [t, deadline] (earliest on ties)? */
  const runNow = (t: number, deadline: number, remaining: number): boolean => {
    let cheaper = 0;
    for (let u = t + 1; u <= deadline; u++) if (price[u] < price[t] - 1e-12) cheaper++;
    return cheaper < remaining;
  };
  /** Is now the cheapest slot the EV has left before its requirement? */
  const cheapestForEv = (view: HomeView): boolean => {
    const ev = view.ev!;
    for (let u = view.slot + 1; u < ev.dueSlot; u++) if (price[u] < price[view.slot] - 1e-12) return false;
    return true;
  };

  return {
    name: 'cheapest',
    act(_obs, info) {
      const view = info.home;
      const n = view.powerKw.length;
      if (out.length !== view.nvec.length) out = new Int32Array(view.nvec.length);
      const t = view.slot;
      let appKw = 0;
      for (let i = 0; i < n; i++) {
        const mayWait = view.mask[2 * i] === 1;
        const mayRun = view.mask[2 * i + 1] === 1;
        let run = mayRun && !mayWait;
        if (mayRun && mayWait) run = interruptible[i] ? runNow(t, view.deadline[i], view.remaining[i]) : startNow(i, t, view.deadline[i]);
        out[i] = run ? 1 : 0;
        if (run) appKw += view.powerKw[i];
      }
      if (view.ev) {
        const wants = view.ev.home && view.ev.neededKwh > 1e-9 && cheapestForEv(view);
        out[n] = evLevelThatFits(view, view.baseKw + appKw - view.pvKw, wants ? 'highest' : 'lowest');
      }
      return out;
    },
  };
}
