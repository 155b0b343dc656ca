import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type DocumentNode } from 'graphql';

/** Path of the contract SDL that every subgraph starts from. */
export const CONTRACT_PATH = fileURLToPath(new URL('./contract.graphql', import.meta.url));

/** The contract SDL text, read once. */
export const contractSdl: string = readFileSync(CONTRACT_PATH, 'utf8');

/** The feed-status part of the contract, which the kit adds to every cluster subgraph. */
export const feedStatusSdl: string = readFileSync(fileURLToPath(new URL('./feed-status.graphql', import.meta.url)), 'utf8');

/** Reads a subgraph's own `.graphql` file that sits next to `moduleUrl`. */
export function readSdl(moduleUrl: string, file: string): string {
  return readFileSync(fileURLToPath(new URL(file, moduleUrl)), 'utf8');
}

/**
 * The full SDL of a subgraph: the contract followed by the subgraph's own definitions,
 * which extend the contract's entities with `extend type`.
 */
export function withContract(ownSdl: string): string {
  return `${contractSdl}\n${ownSdl}`;
}

/** Parses a subgraph's own SDL with the contract in front of it. */
export function subgraphDocument(ownSdl: string): DocumentNode {
  return parse(withContract(ownSdl));
}
