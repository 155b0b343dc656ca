/** The contract's `Date` scalar (schema/date.ts), for a supplier's subgraph to import from the kit. */
export * from '../../schema/date.js';
