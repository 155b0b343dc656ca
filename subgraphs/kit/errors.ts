/** The error mask every service applies (schema/error-mask.ts), for a supplier's subgraph to import from the kit. */
export * from '../../schema/error-mask.js';
