import { evPowerFits, LIMIT_TOL, type HomeView } from './view.js';

/**
 * The home's MultiDiscrete action as one flat index, for policies that choose one action among all
 * joint ones (DQN, Q-learning). Index = ravel of the components in C order (the last component
 * varies fastest), as numpy's ravel_multi_index: a = Σ_c v_c·Π_{c' > c} nvec[c'].
 */
export class ActionCodec {
  readonly nvec: Int32Array;
  /** The number of flat actions: the product of nvec. */
  readonly n: number;
  private readonly buf: Int32Array;

  constructor(nvec: ArrayLike<number>) {
    this.nvec = Int32Array.from(nvec);
    for (let c = 0; c < this.nvec.length; c++)
      if (!(this.nvec[c] >= 1) || this.nvec[c] !== nvec[c]) throw new Error(`ActionCodec: nvec[${c}] is ${nvec[c]}, expected an integer ≥ 1`);
    this.n = this.nvec.reduce((a, b) => a * b, 1);
    this.buf = new Int32Array(this.nvec.length);
  }

  /** Flat index of components. */
  flatten(components: ArrayLike<number>): number {
    let index = 0;
    for (let c = 0; c < this.nvec.length; c++) index = index * this.nvec[c] + components[c];
    return index;
  }

  /** Components of a flat index, written into `out` when given (no allocation then). */
  unflatten(index: number, out: Int32Array = new Int32Array(this.nvec.length)): Int32Array {
    let rest = index;
    for (let c = this.nvec.length - 1; c >= 0; c--) {
      out[c] = rest % this.nvec[c];
      rest = Math.floor(rest / this.nvec[c]);
    }
    return out;
  }

  /**
   * The exact joint mask of the slot `view` shows: index a is allowed iff its whole action is
   * (`isAllowed`). Written into `out` when given.
   */
  flatMask(view: HomeView, out: Uint8Array = new Uint8Array(this.n)): Uint8Array {
    for (let a = 0; a < this.n; a++) out[a] = isAllowed(view, this.unflatten(a, this.buf)) ? 1 : 0;
    return out;
  }
}

/**
 * Whether the whole action is allowed: every component inside its mask, the import under the
 * limit (the contract, or an operator's cap) and no V2H energy into the grid. The controller plays such an action without a fallback.
 */
export function isAllowed(view: HomeView, action: ArrayLike<number>): boolean {
  const n = view.powerKw.length;
  let appKw = 0;
  for (let i = 0; i < n; i++) {
    const a = action[i];
    if ((a !== 0 && a !== 1) || !view.mask[2 * i + a]) return false;
    if (a === 1) appKw += view.powerKw[i];
  }
  // Under the contract alone this never binds (a scenario's appliances fit it); under a cap it may.
  if (appKw > 0 && view.baseKw + appKw - view.pvKw > view.limitKw + LIMIT_TOL) return false;
  if (!view.ev) return true;
  const k = action[n];
  const off = view.maskOffsets[n];
  if (!Number.isInteger(k) || k < 0 || k >= view.ev.levelsKw.length || !view.mask[off + k]) return false;
  return evPowerFits(view.ev.levelsKw[k], view.baseKw + appKw - view.pvKw, view.limitKw);
}
