export * from './env/index.js';
export * from './baseline/index.js';
export * from './rescoin/index.js';
