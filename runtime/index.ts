/**
 * The gateway runtime, bundled into an exported folder's `policy.mjs` (spec: manifest.ts; an
 * integration: docs/gateway.md). Everything here runs with Node's built-ins only.
 */
export * from './view.js';
export * from './manifest.js';
export { ActionCodec, isAllowed } from './codec.js';
export { featureTable, observationLayout, type FeatureDef } from './features.js';
export { HomeController, type Applied, type HomeReadings } from './controller.js';
export { EvController, type EvReadings } from './ev.js';
export { TableKey, makeTableKey } from './tablekey.js';
export { halfToFloat, decodeTensor } from './weights.js';
export { loadPolicy, type LoadedPolicy } from './policy.js';
export { loadController, type GatewayHome, type SlotDecision } from './gateway.js';
