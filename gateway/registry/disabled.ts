/**
 * How the registry's endpoints refuse, and what answers under `/registry` when the registry
 * is off. Apart from `routes.ts` so that a gateway without a registry (`SUPERGRAPH_PATH`,
 * `REGISTRY=false`) never loads the registry's code (about 1.5 MB of heap).
 */
import type express from 'express';
import type { Response } from 'express';
import { ErrorCode } from '../../schema/errors.js';

/** Answers `{ error: { code, message } }` (and `extra`) with `status`. */
export function refuse(res: Response, status: number, code: ErrorCode, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error: { code, message }, ...extra });
}

/** Every `/registry` request answered 409 `REGISTRY_DISABLED`, saying why. */
export function disabledRegistryRoutes(reason: string): (app: express.Express) => void {
  return (app) => {
    app.use('/registry', (_req, res) => refuse(res, 409, ErrorCode.REGISTRY_DISABLED, reason));
  };
}
