/**
 * The Q-learning table key of an observation: the one function the trainer (agents/qlearning.ts,
 * whose doc comment is the spec) and a gateway's policy.mjs key the table with. `rescoin export`
 * still stores the trainer's keys of a few observations in policy.json `checks`, so a folder whose
 * policy.mjs was built from other sources is refused.
 */
const KEY_SLOTS = 96;
const SLACK_EDGES = [1, 3];
const PV_EDGES = [0.01, 0.1, 0.3, 0.6];
const EV_SPARE_EDGES = [-8, -4, -2, 0, 1, 2, 4, 8, 16];
const PEAK_STEP = 0.05;
const PEAK_MAX = 20;
/** Needed energy below this fraction of the capacity counts as none (float32 rounding). */
const NEED_EPS = 1e-5;

/** The number of edges ≤ x: bucket 0 below the first edge. */
function bucket(x: number, edges: readonly number[]): number {
  let b = 0;
  while (b < edges.length && x >= edges[b]) b++;
  return b;
}

/** The key of observations laid out as `names` (features found by name, so any scenario works). */
export class TableKey {
  private readonly sin: number;
  private readonly cos: number;
  private readonly price: number;
  private readonly pv: number;
  private readonly peak: number;
  private readonly apps: { pending: number; remaining: number; slack: number }[];
  private readonly ev: { home: number; needed: number; due: number } | null;

  /** `where` names the caller in the error of a missing feature. */
  constructor(names: readonly string[], where = 'policy.json observation.features') {
    const at = (name: string): number => {
      const i = names.indexOf(name);
      if (i < 0) throw new Error(`${where} has no feature '${name}', which the Q-table key needs`);
      return i;
    };
    const ids = names.filter((f) => f.endsWith('.pending')).map((f) => f.slice(0, -'.pending'.length));
    this.sin = at('time_sin');
    this.cos = at('time_cos');
    this.price = at('price_now');
    this.pv = at('pv_now');
    this.peak = at('peak');
    this.apps = ids.map((id) => ({ pending: at(`${id}.pending`), remaining: at(`${id}.remaining`), slack: at(`${id}.slack`) }));
    this.ev = names.includes('ev.home') ? { home: at('ev.home'), needed: at('ev.needed'), due: at('ev.due') } : null;
  }

  /** The slot t = 0…95 of an observation, from its time_sin and time_cos. */
  slotOf(obs: ArrayLike<number>): number {
    const angle = Math.atan2(obs[this.sin], obs[this.cos]);
    return (Math.round((angle / (2 * Math.PI)) * KEY_SLOTS) + KEY_SLOTS) % KEY_SLOTS;
  }

  key(obs: ArrayLike<number>): string {
    return this.keyAt(obs, this.slotOf(obs));
  }

  /** The key of an observation whose slot is already known. */
  keyAt(obs: ArrayLike<number>, slot: number): string {
    const band = Math.round(20 * obs[this.price]);
    const pv = bucket(obs[this.pv], PV_EDGES);
    const peak = Math.min(PEAK_MAX, Math.floor(obs[this.peak] / PEAK_STEP));
    const parts = this.apps.map((a) => {
      if (obs[a.pending] < 0.5) return '-';
      const started = obs[a.remaining] < 1 - 1e-6 ? 1 : 0;
      const slack = bucket(Math.round(obs[a.slack] * KEY_SLOTS), SLACK_EDGES);
      return `${started}${slack}`;
    });
    let ev = '';
    if (this.ev) {
      const e = this.ev;
      if (obs[e.home] < 0.5) ev = '|-';
      else {
        const needed = obs[e.needed];
        const spare = Math.round(obs[e.due] * KEY_SLOTS) - needed * KEY_SLOTS;
        ev = needed < NEED_EPS ? '|ok' : `|${bucket(spare, EV_SPARE_EDGES)}`;
      }
    }
    return `${slot}|${band}|${pv}|${peak}|${parts.join(',')}${ev}`;
  }
}

/** The table key of an observation, given the observation's feature names in order. */
export function makeTableKey(names: readonly string[]): (obs: ArrayLike<number>) => string {
  const k = new TableKey(names);
  return (obs) => k.key(obs);
}
