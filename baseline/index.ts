export * from './asap.js';
export * from './cheapest.js';
export * from './lp.js';
export * from './milp.js';
export * from './milp-model.js';
export * from './milp-policy.js';
export * from './pareto.js';
export * from './mpc.js';
