/**
 * How every service reads its settings: once, at start-up, from the environment, failing
 * with one message that names each bad variable and its value. The gateway's and each
 * subgraph's `config.ts` build on it, so an operator meets one behaviour everywhere.
 */
import { z } from 'zod';

/** A TCP port from the environment: 0 (pick a free one) to 65535. */
export const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be 0-65535')
    .max(65535, 'must be 0-65535')
    .default(fallback);

/** The interface to listen on; 127.0.0.1 unless told otherwise. */
export const host = z
  .string()
  .min(1, 'must not be empty')
  .regex(/^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or IP address')
  .default('127.0.0.1');

/** An absolute http(s) URL. */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Raised when the environment holds a bad value; the message names each variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses the variables named in `shape` out of `env` once, at start-up. Empty strings count
 * as unset. Throws a `ConfigError` naming every bad variable and its value.
 */
export function parseEnv<S extends z.ZodRawShape>(shape: S, env: Env): Readonly<z.infer<z.ZodObject<S>>> {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const result = z.object(shape).safeParse(picked);
  if (result.success) return Object.freeze(result.data);
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    return `  ${name}=${JSON.stringify(picked[name] ?? '')}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** A redis:// or rediss:// URL. */
export const redisUrl = z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' });
