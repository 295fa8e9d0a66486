/** RESCoin: the signed, tamper-evident ledger of the payouts (DESIGN.md, "RESCoin"; spec in ledger.ts). */
export * from './errors.js';
export * from './amount.js';
export * from './canonical.js';
export * from './merkle.js';
export * from './keys.js';
export * from './ledger.js';
export * from './transactions.js';
export * from './blocks.js';
export * from './store.js';
export * from './durable.js';
export * from './payouts.js';
