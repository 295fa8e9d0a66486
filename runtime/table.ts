import type { PolicyManifest, Scorer } from './manifest.js';
import { join } from 'node:path';
import { makeTableKey } from './tablekey.js';

/** The Q-learning table of qtable.json, keyed by the trainer's own key function. */
export interface TableScorer extends Scorer {
  keyOf(obs: Float32Array): string;
}

export function tableScorer(m: PolicyManifest, files: Map<string, Uint8Array>, dir: string): TableScorer {
  const where = join(dir, 'qtable.json');
  const raw = files.get('qtable.json');
  if (!raw) throw new Error(`${join(dir, 'policy.json')}: weights.files lists no qtable.json, which a Q-learning policy needs`);
  const rows = JSON.parse(new TextDecoder().decode(raw)) as Record<string, number[]>;
  const n = m.action.n;
  const table = new Map<string, Float64Array>();
  for (const [k, q] of Object.entries(rows)) {
    if (!Array.isArray(q) || q.length !== n) throw new Error(`${where}: state ${JSON.stringify(k)} has ${q?.length} values, expected ${n} (policy.json action.n)`);
    table.set(k, Float64Array.from(q));
  }
  const keyOf = makeTableKey(m.observation.features.map((f) => f.name));
  const zeros = new Float64Array(n);
  let row: Float64Array = zeros;
  return {
    keyOf,
    load(obs) {
      row = table.get(keyOf(obs)) ?? zeros;
    },
    q: (j) => row[j],
  };
}
