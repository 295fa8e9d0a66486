export * from './env/index.js';
export * from './baseline/index.js';
