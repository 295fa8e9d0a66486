import { describe, expect, it } from 'vitest';
import { ActionCodec, LIMIT_TOL, type HomeView } from '../../runtime/index.js';
import { daySeed, flatCodec, loadScenario, makeEnv, Rng, sampleAllowed } from '../../env/index.js';

/** ActionCodec: C-order ravel of the components, and the exact joint mask of a slot. */

/** The joint rule, written out here: every component in its mask, import ≤ contract, V2H exports nothing. */
function jointRule(view: HomeView, c: Int32Array): boolean {
  const nApp = view.powerKw.length;
  let net = view.baseKw - view.pvKw;
  for (let i = 0; i < nApp; i++) {
    if (!view.mask[2 * i + c[i]]) return false;
    net += c[i] * view.powerKw[i];
  }
  if (!view.ev) return true;
  if (!view.mask[view.maskOffsets[nApp] + c[nApp]]) return false;
  const kw = view.ev.levelsKw[c[nApp]];
  if (kw > 0) return net + kw <= view.contractKw + LIMIT_TOL;
  if (kw < 0) return net + kw >= -LIMIT_TOL;
  return true;
}

describe('ActionCodec', () => {
  it('flattens in C order (the last component fastest) and round-trips every index', () => {
    const codec = new ActionCodec([2, 3, 4]);
    expect(codec.n).toBe(24);
    expect(codec.flatten([1, 2, 3])).toBe(23);
    expect(codec.flatten([0, 1, 0])).toBe(4);
    expect(Array.from(codec.unflatten(7))).toEqual([0, 1, 3]);
    for (const nvec of [[2, 2, 2, 2, 2, 2, 7], [2, 2, 2, 2, 2, 3], [5], [3, 1, 2]]) {
      const c = new ActionCodec(nvec);
      const out = new Int32Array(nvec.length);
      const seen = new Set<string>();
      for (let a = 0; a < c.n; a++) {
        expect(c.unflatten(a, out)).toBe(out);
        for (let k = 0; k < nvec.length; k++) expect(out[k]).toBeLessThan(nvec[k]);
        seen.add(out.join(','));
        expect(c.flatten(out)).toBe(a);
      }
      expect(seen.size).toBe(c.n);
    }
    expect(() => new ActionCodec([2, 0])).toThrow(/nvec\[1\] is 0, expected an integer ≥ 1/);
    expect(() => new ActionCodec([2.5])).toThrow(/nvec\[0\] is 2.5/);
  });

  for (const id of ['paper-apartment', 'paper-apartment-v2h']) {
    it(`${id}: the flat mask is the joint rule at every slot of random masked days`, () => {
      const s = loadScenario(id);
      const codec = flatCodec(s);
      const env = makeEnv(s);
      const rng = new Rng(5);
      const c = new Int32Array(codec.nvec.length);
      let allowed = 0;
      let refusedByContract = 0;
      for (let d = 0; d < 4; d++) {
        let { info } = env.reset({ seed: daySeed(11, d) });
        for (let t = 0; t < 96; t++) {
          const mask = codec.flatMask(info.home);
          for (let a = 0; a < codec.n; a++) {
            codec.unflatten(a, c);
            const rule = jointRule(info.home, c);
            expect(mask[a], `day ${d} slot ${t} action ${a}`).toBe(rule ? 1 : 0);
            allowed += mask[a];
            // Inside every component's mask, refused jointly: the contract or the V2H rule.
            let inside = true;
            for (let k = 0; k < c.length; k++) inside &&= info.home.mask[info.home.maskOffsets[k] + c[k]] === 1;
            if (inside && !rule) refusedByContract++;
          }
          info = env.step(sampleAllowed(info.home, rng, new Int32Array(codec.nvec.length))).info;
        }
      }
      expect(allowed).toBeGreaterThan(4 * 96);
      if (s.ev?.v2h) expect(refusedByContract).toBeGreaterThan(0);
    });
  }
});
