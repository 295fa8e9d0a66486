import type { Observations } from './observations.js';

/** STUB until the importers land (h14-import): same signature, throws. */
export interface InputSpec {
  events?: string[];
  sessions?: string[];
  meter?: string[];
  opsd?: string[];
  norway?: string[];
  citylearn?: string[];
}
export function readInputs(_inputs: InputSpec, _opts: { tz?: string }): Observations {
  throw new Error('not merged yet');
}
