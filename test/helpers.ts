/** Shared helpers for the cross-service tests: a whole supergraph on ephemeral ports. */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../gateway/logger.js';
import { FREE_PORTS, startStack, type Stack, type StackOptions } from '../scripts/stack.js';

/** Settings that put every service on a free port of 127.0.0.1. */
export const EPHEMERAL_ENV: NodeJS.ProcessEnv = {
  ...FREE_PORTS,
  // Never the developer's .data/registry: a folder of its own (created only if a test publishes).
  REGISTRY_DIR: join(tmpdir(), `msg-registry-${randomUUID()}`),
};
process.once('exit', () => rmSync(EPHEMERAL_ENV['REGISTRY_DIR']!, { recursive: true, force: true }));

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[];
}

/** POSTs a GraphQL operation and returns the HTTP status with the parsed body. */
export async function post<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

/**
 * The gateway's JSON logs through `console.log` rather than straight to the stdout file
 * descriptor (pino's default), so that vitest shows them only for a failing test.
 */
export function testLogger(): Logger {
  return createLogger('info', { write: (line: string) => console.log(line.trimEnd()) });
}

/** Starts the whole supergraph on ephemeral ports; close it in `afterAll`. */
export async function startTestStack(
  options: Omit<StackOptions, 'env' | 'withGateway'> & { env?: NodeJS.ProcessEnv } = {},
): Promise<Stack> {
  const registryDir = join(tmpdir(), `msg-registry-${randomUUID()}`);
  const stack = await startStack({
    ...(options.log || options.logger ? {} : { logger: testLogger() }),
    ...options,
    env: { ...EPHEMERAL_ENV, REGISTRY_DIR: registryDir, ...options.env },
  });
  return {
    ...stack,
    close: async () => {
      await stack.close();
      rmSync(registryDir, { recursive: true, force: true });
    },
  };
}

/** Runs a query that must succeed and returns its data. */
export async function query<T = any>(url: string, text: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await post<T>(url, text, variables);
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  return response.data as T;
}
