/** The cluster-view shape rules (schema/cluster-views.ts), for a supplier's subgraph to import from the kit. */
export * from '../../schema/cluster-views.js';
