/** The contract SDL and its helpers (schema/contract.ts), for a supplier's subgraph to import from the kit. */
export * from '../../schema/contract.js';
