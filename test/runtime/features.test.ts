import { describe, expect, it } from 'vitest';
import { EV_RATE_MAX, featureTable, HomeController, observationLayout as layoutOf } from '../../runtime/index.js';
import { controllerSpec, daySeed, loadScenario, makeEnv, observationLayout, Rng, sampleAllowed, type Feature, type Scenario } from '../../env/index.js';
import { actionLayout, homeSpec } from '../../export/export.js';

/**
 * The feature table: the layout is the one the observation had before the table (names, order,
 * units, scaling, bounds), and a controller built from a policy folder's manifest numbers alone,
 * fed the simulator's readings, computes the environment's observations and masks bit for bit.
 */

/** The layout as env/home.ts declared it before the feature table (issue 11), for comparison. */
function layoutBefore(s: Scenario): Feature[] {
  const f = (name: string, unit: string, scaling: string, low = 0, high = 1): Feature => ({ name, unit, scaling, low, high });
  const out = [
    f('time_sin', '-', 'sin(2π·t/96)', -1, 1),
    f('time_cos', '-', 'cos(2π·t/96)', -1, 1),
    f('weekend', '0/1', 'Saturday or Sunday'),
    f('price_now', '€/kWh', '÷ highest band price'),
    f('price_1h', '€/kWh', 'price in 4 slots ÷ highest band price'),
    f('price_4h', '€/kWh', 'price in 16 slots ÷ highest band price'),
    f('pv_now', 'kW', '÷ PV kWp'),
    f('pv_next_1h', 'kW', 'mean of the next 4 slots ÷ PV kWp'),
    f('pv_next_4h', 'kW', 'mean of the next 16 slots ÷ PV kWp'),
    f('base_now', 'kW', '÷ contract'),
  ];
  for (const a of s.appliances)
    out.push(
      f(`${a.id}.pending`, '0/1', 'a visible request not done'),
      f(`${a.id}.remaining`, 'slots', '÷ cycle length'),
      f(`${a.id}.slack`, 'slots', '(deadline − t + 1 − remaining) ÷ 96'),
      f(`${a.id}.running`, '0/1', 'ran in the previous slot'),
    );
  if (s.ev)
    out.push(
      f('ev.home', '0/1', 'plugged in at home'),
      f('ev.soc', 'kWh', '÷ capacity'),
      f('ev.needed', 'kWh', 'energy to the next requirement ÷ capacity'),
      f('ev.due', 'slots', 'slots to the next requirement ÷ 96'),
      f('ev.rate', 'kW', `needed ÷ (η_c·Δt·slots to due) ÷ charge step, at most ${EV_RATE_MAX}`, 0, EV_RATE_MAX),
      f('ev.start', 'kWh', 'SoC at 00:00, which the day must end with ÷ capacity'),
    );
  out.push(f('peak', 'kW', 'running import peak ÷ contract', 0, 2));
  return out;
}

const manifestSpec = (s: Scenario) => ({ action: actionLayout(s), home: homeSpec(s) });

describe('the feature table', () => {
  for (const id of ['paper-apartment', 'paper-apartment-v2h', 'large-home']) {
    it(`${id}: the layout is the one from before, from the env and from a manifest alike`, () => {
      const s = loadScenario(id);
      const before = layoutBefore(s);
      expect(observationLayout(s)).toEqual(before);
      expect(layoutOf(controllerSpec(s))).toEqual(before);
      // large-home has too many joint actions to export (a flat policy): its layout only.
      if (id !== 'large-home') expect(layoutOf(manifestSpec(s))).toEqual(before);
      expect(makeEnv(s).observationSpace.low).toEqual(Float32Array.from(before, (f) => f.low));
      const table = featureTable(controllerSpec(s));
      expect(table.defs.map((d) => typeof d.read)).toEqual(before.map(() => 'function'));
      expect(Array.from(table.appliance).filter((i) => i >= 0)).toEqual(s.appliances.flatMap((_, i) => [i, i, i, i]));
    });
  }

  for (const id of ['paper-apartment', 'paper-apartment-v2h']) {
    it(`${id}: a controller of the manifest's numbers, fed the simulator's readings, gives the env's observations, masks and played actions`, () => {
      const s = loadScenario(id);
      const env = makeEnv(s);
      const home = new HomeController(manifestSpec(s));
      const obs = new Float32Array(home.obsSize);
      const table = featureTable(manifestSpec(s));
      const rng = new Rng(8);
      let away = 0;
      let violations = 0;
      for (let d = 0; d < 6; d++) {
        let { observation, info } = env.reset({ seed: daySeed(21, d) });
        home.newDay();
        for (let t = 0; t <= 96; t++) {
          const r = env.readings();
          home.observe(r, obs);
          expect(Array.from(obs), `day ${d} slot ${t}`).toEqual(Array.from(observation));
          // Each feature's own read gives what the compiled observation wrote.
          table.defs.forEach((def, k) => expect(Math.fround(def.read(home, table.appliance[k])), def.name).toBe(obs[k]));
          expect(Array.from(home.mask), `day ${d} slot ${t} mask`).toEqual(Array.from(info.actionMask));
          if (t === 96) break;
          if (r.ev && !r.ev.home) away++;
          // Actions with some outside the mask: the fallbacks must agree too.
          const a = sampleAllowed(info.home, rng, new Int32Array(home.nComponents));
          if (rng.float() < 0.2) a[rng.int(0, a.length - 1)] = rng.int(0, 1);
          const applied = home.apply(a);
          const step = env.step(a);
          expect(applied.violations).toBe(step.info.violations);
          violations += applied.violations;
          expect(Array.from(applied.components)).toEqual(Array.from(env.trajectory().actions.subarray(t * home.nComponents, (t + 1) * home.nComponents)));
          ({ observation, info } = step);
        }
        expect(home.peakKw).toBe(env.trajectory().importKw.reduce((m, x) => Math.max(m, x), 0));
      }
      expect(away).toBeGreaterThan(0);
      expect(violations).toBeGreaterThan(0);
    });
  }
});
