export * from './env/index.js';
export * from './baseline/index.js';
export * from './ledger/index.js';
