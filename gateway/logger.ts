/**
 * Structured JSON logs (pino). The code passes plain `log(line)` functions around (tests pass
 * `() => {}`); by default those lines become pino `info` messages. Secrets never reach a log:
 * authorization and API-key headers are redacted by path, and tokens or passwords that appear
 * inside a message (a bearer token, a Redis URL's password) are masked.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { pino, type DestinationStream, type Logger } from 'pino';
import { MEMBERSHIP_PATH } from '../schema/membership.js';
import { activeTraceId } from '../schema/telemetry.js';
import { receivedAt } from '../schema/http.js';
import { REQUEST_ID_HEADER } from '../schema/wire.js';
import type { Caller } from './caller.js';
import { clientOf, subjectHash } from './client-awareness.js';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

/** Header that carries a request's id, in and out, and to the subgraphs. */
export { REQUEST_ID_HEADER };

/** Paths pino removes from every log object. */
const REDACT = [
  'authorization',
  'token',
  'apiKey',
  'password',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
];

/** Masks secrets inside free text: bearer/basic credentials, URL passwords, key=value secrets. */
export function scrub(text: string): string {
  return text
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [REDACTED]')
    .replace(/(\/\/[^/\s:@]*:)[^@\s/]+@/g, '$1[REDACTED]@')
    .replace(/\b(token|api[-_]?key|password|secret)(["']?\s*[:=]\s*["']?)[^"'\s,&}]+/gi, '$1$2[REDACTED]');
}

/** The gateway's pino logger at `level`, to stdout unless given a destination (tests). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'gateway' },
    redact: { paths: REDACT, censor: '[REDACTED]' },
    // Every line written within a traced request carries its trace id (none when tracing is off).
    mixin: () => {
      const traceId = activeTraceId();
      return traceId ? { traceId } : {};
    },
    hooks: {
      // Messages are free text: mask secrets in them too.
      logMethod(this: Logger, args: Parameters<Logger['info']>, method: Logger['info']) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<Logger['info']>);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A `log(line)` sink that writes `line` as a pino message (warn when it reports a problem). */
export function lineLogger(logger: Logger): (line: string) => void {
  return (line) => {
    if (/\b(fail|unreachable|unavailable|refused|rejected|error|lost|open)\w*/i.test(line)) logger.warn(line);
    else logger.info(line);
  };
}

/**
 * The gateway's logs: a given `log` alone silences access logs (tests); otherwise a pino
 * logger (given, or JSON on stdout at `level`), with `log` lines as its messages.
 */
export function gatewayLogs(
  level: LogLevel,
  options: { log?: (line: string) => void; logger?: Logger },
): { log: (line: string) => void; logger: Logger | null } {
  const logger = options.logger ?? (options.log ? null : createLogger(level));
  return { log: options.log ?? lineLogger(logger!), logger };
}

/** A request id: the client's `x-request-id` when it is a sane token, else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * Gives every request an id (`res.locals.requestId`, echoed in `x-request-id`) and writes one
 * access-log line when it ends: method, path, status, duration, operation, the client it names
 * (`apollographql-client-name` / `-version`) and its token's subject hashed, never its
 * headers or body.
 */
export function requestLogging(logger: Logger | null): RequestHandler {
  return (req, res, next) => {
    const requestId = requestIdOf(req.headers[REQUEST_ID_HEADER]);
    res.locals['requestId'] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    // Polled by machines every few seconds: probes read /health and /metrics, the subgraphs the
    // membership, insights the published SDLs. Logged only when they fail.
    // Access lines are info: below it (LOG_LEVEL=warn), no listener per request for nothing.
    if (logger?.isLevelEnabled('info')) {
      const started = receivedAt(res);
      // Mounted routers rewrite req.path: keep the one the client asked for.
      const path = req.path;
      const polled =
        path === '/health' ||
        path === '/metrics' ||
        (req.method === 'GET' && (path === MEMBERSHIP_PATH || (path === '/registry/subgraphs' && req.query['sdl'] === 'true')));
      // 'finish' runs outside the request's trace context: its id is taken now.
      const traceId = activeTraceId();
      res.on('finish', () => {
        if (polled && res.statusCode < 400) return;
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const client = clientOf((name) => req.headers[name]);
        logger.info(
          {
            requestId,
            method: req.method,
            path,
            status: res.statusCode,
            ms: Math.round(ms * 10) / 10,
            operation: (res.locals['operationName'] as string | undefined) ?? null,
            ...(traceId ? { traceId } : {}),
            client: client.name,
            clientVersion: client.version,
            subject: subjectHash((res.locals['caller'] as Caller | undefined)?.subject),
          },
          'request',
        );
      });
    }
    next();
  };
}
