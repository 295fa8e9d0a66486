export * from './community.js';
export * from './market.js';
export * from './score.js';
export * from './core.js';
export * from './env.js';
export * from './play.js';
export * from './check.js';
export * from './vector.js';
