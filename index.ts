export * from './env/index.js';
