export * from './asap.js';
export * from './cheapest.js';
