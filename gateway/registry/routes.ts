/**
 * The supplier registry's HTTP endpoints at the gateway:
 *
 * - `GET /registry/subgraphs`: the published subgraphs with their versions (`?sdl=true`: and
 *   SDLs, which insights follows), and what this gateway serves;
 *   `GET /registry/subgraphs/:name/history`; `GET /registry/history`.
 * - `POST /registry/subgraphs/:name` `{ sdl, url }`: the SDL limits first (413), then every
 *   check of `subgraph:check` (in the check worker) plus the URL's (an allowed host, serving a
 *   subgraph, speaking for a known cluster); refused (422) with the full report and nothing
 *   changed, or accepted (201): recomposed and hot-swapped. A change is stored only once the
 *   worker has composed a supergraph the gateway can load, and withdrawn (503) if this
 *   gateway's swap to it then fails: nothing it cannot serve stays.
 * - `DELETE /registry/subgraphs/:name`; `POST /registry/rollback` `{ version }` (operator).
 *
 * Changes need `Authorization: Bearer <token>`: 401 without a known token, 403 when the
 * token may not change that subgraph; a body not sent as JSON is 415; a name that is not a
 * subgraph name is 400; the store unreachable is 503 within about a second. Every change, and
 * every refusal, is logged with who.
 */
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { ErrorCode } from '../../schema/errors.js';
import { refuse } from './disabled.js';
import type { PersistedOperations } from '../persisted-operations.js';
import type { CheckedOperation, CheckReport } from './checks.js';
import type { SubgraphSource } from '../compose.js';
import { builtInKey, type LiveSupergraph } from './live-supergraph.js';
import { checkedOperations, checkPublication } from './publication.js';
import type { MembershipStore } from './membership.js';
import { mountMembershipRoutes } from './membership-routes.js';
import { formatReport } from './report.js';
import { publishedSdlProblem, subgraphNameProblem } from './sdl-limits.js';
import { RegistryUnavailableError, type PublishedSubgraph, type RegistryChange, type RegistryState, type RegistryStore } from './store.js';
import { authenticate, bearerToken, mayChange, readTokens, type Principal } from './tokens.js';
import type { HostPolicy } from './url-policy.js';
import { CheckAbortedError, runChangeChecks, runChecks, type CheckSettings } from './worker.js';

export interface RegistryRoutesOptions {
  readonly store: RegistryStore;
  /** Who belongs to the programme (membership.ts): publishes are checked against it. */
  readonly membership: MembershipStore;
  readonly live: LiveSupergraph;
  readonly tokensFile: string;
  readonly builtInUrls: Readonly<Record<string, string>>;
  /** The persisted-operation manifest now (it is reloaded when its file changes). */
  readonly persisted: () => PersistedOperations;
  /** The hosts a published URL may name (`REGISTRY_ALLOWED_HOSTS`). */
  readonly allowedHosts: HostPolicy;
  /** The SDL limits and the check worker's. */
  readonly checks: CheckSettings;
  readonly log: (line: string) => void;
}

/** How many times a change is re-checked when another change landed first. */
const ATTEMPTS = 5;

const publishBody = z.object({
  sdl: z.string({ error: 'is required: the subgraph SDL, as text' }).min(1, 'must not be empty'),
  // Any text: the URL policy refuses what it cannot allow, with the same reason as any refused URL.
  url: z
    .string({ error: 'is required: the routing URL, e.g. http://127.0.0.1:4010/graphql' })
    .min(1, 'must not be empty')
    .max(2000, 'is over 2000 characters'),
});
const rollbackBody = z.object({ version: z.number({ error: 'is required: the registry version to restore' }).int().min(0) });

/**
 * Refuses a change request whose body is not declared JSON: express.json() leaves such a body
 * unread, which would otherwise be reported as missing fields. Answered; false when refused.
 */
function jsonBody(req: Request, res: Response, example: string): boolean {
  if (req.is('application/json')) return true;
  refuse(
    res,
    415,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    `Send the body as JSON with Content-Type: application/json (got ${req.headers['content-type'] ?? 'none'}), e.g. ${example}`,
  );
  return false;
}

/** The registry endpoints, mounted on the gateway's app. */
export function registryRoutes(options: RegistryRoutesOptions): (app: express.Express) => void {
  const { store, live, log } = options;

  /** The caller, when allowed to change `name` (or everything, for `name` null); otherwise answered. */
  function authorise(req: Request, res: Response, name: string | null): Principal | null {
    const token = bearerToken(req.headers.authorization);
    let principal: Principal | null = null;
    try {
      principal = token ? authenticate(readTokens(options.tokensFile), token) : null;
    } catch (error) {
      log(`registry: ${(error as Error).message}`);
      refuse(res, 500, ErrorCode.REGISTRY_TOKENS_INVALID, 'The registry tokens file is invalid; see the gateway log');
      return null;
    }
    const what = `${req.method} ${req.originalUrl}`;
    if (!principal) {
      log(`registry: 401 for ${what}: ${token ? 'unknown token' : 'no token'}`);
      refuse(
        res,
        401,
        ErrorCode.UNAUTHORIZED,
        token ? 'Unknown registry token' : 'Send Authorization: Bearer <token> (npm run registry:token mints one)',
      );
      return null;
    }
    if (name === null ? !principal.operator : !mayChange(principal, name)) {
      log(`registry: 403 for ${what} by ${principal.supplier}`);
      refuse(
        res,
        403,
        ErrorCode.FORBIDDEN,
        `The token of ${principal.supplier} may not ${name === null ? 'do this (operator only)' : `change subgraph "${name}"`}`,
      );
      return null;
    }
    return principal;
  }

  async function operations(): Promise<CheckedOperation[]> {
    return checkedOperations(options.persisted(), await store.recentOperations().catch(() => []));
  }

  /** The checks' outcome, or the refusal when the worker was stopped (answered; null). */
  async function checked<T>(res: Response, what: string, run: () => Promise<T>): Promise<T | null> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof CheckAbortedError)) throw error;
      log(`registry: refused ${what}: ${error.message}`);
      refuse(res, 422, ErrorCode.CHECKS_ABORTED, `${what} refused: ${error.message}; nothing was stored`);
      return null;
    }
  }

  /** The name in the path, when it is a subgraph name; otherwise answered. */
  function nameOf(req: Request, res: Response): string | null {
    const name = String(req.params['name']);
    const problem = subgraphNameProblem(name);
    if (!problem) return name;
    refuse(res, 400, ErrorCode.BAD_REQUEST, problem);
    return null;
  }

  /** The principals (by supplier id) with a change being checked or committed now. */
  const inProgress = new Set<string>();

  /**
   * Commits `build(state)` with compare-and-set, re-checking on the state that won a race;
   * then swaps this gateway to it, and withdraws it if that swap fails. Answers `status` when
   * it is served: 201 for what creates a version of a subgraph (a publish, a rollback), 200
   * for a withdrawal, which creates nothing.
   */
  async function commit(
    principal: Principal,
    res: Response,
    what: string,
    status: 200 | 201,
    build: (
      state: RegistryState,
      builtIns: readonly SubgraphSource[],
    ) => Promise<
      | { next: RegistryState; report: CheckReport; supergraphSdl: string }
      | { refused: CheckReport }
      | { status: number; code: ErrorCode; message: string }
      | { answered: true }
    >,
  ): Promise<void> {
    // One change per principal at a time: the check worker runs one task at a time (each up to
    // REGISTRY_CHECK_TIMEOUT_MS), and the gateway's own swaps wait behind it, so one token
    // sending costly changes concurrently would hold every other supplier's publish, and the
    // swaps, for as long as it kept sending. A second one is refused at once instead.
    if (inProgress.has(principal.supplier)) {
      log(`registry: refused ${what}: another change by ${principal.supplier} is still being checked`);
      return refuse(
        res,
        409,
        ErrorCode.CONFLICT,
        `${what} refused: another change by ${principal.supplier} is still being checked; send this one when it is answered`,
      );
    }
    inProgress.add(principal.supplier);
    try {
      await attempts(res, what, status, build);
    } finally {
      inProgress.delete(principal.supplier);
    }
  }

  /** `commit`'s compare-and-set attempts. */
  async function attempts(res: Response, what: string, status: 200 | 201, build: Parameters<typeof commit>[4]): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const state = await store.current();
      // The checks compose with the built-ins as they served their SDL when last asked.
      const builtIns = live.builtIns;
      if (!builtIns)
        return refuse(
          res,
          503,
          ErrorCode.SUBGRAPH_UNAVAILABLE,
          `${what} refused: the built-in subgraphs do not all serve their SDL yet; try again shortly`,
        );
      const built = await build(state, builtIns);
      if ('answered' in built) return;
      if ('status' in built) return refuse(res, built.status, built.code, built.message);
      if ('refused' in built) {
        log(`registry: refused ${what}: ${built.refused.subgraph} failed its checks`);
        return refuse(res, 422, ErrorCode.CHECKS_FAILED, `${what} refused: the checks failed`, {
          accepted: false,
          report: built.refused,
          text: formatReport(built.refused),
        });
      }
      if (await store.compareAndSet(state.version, built.next)) {
        log(`registry: ${what} (registry version ${built.next.version})`);
        const outcome = await live.sync({
          registryVersion: built.next.version,
          supergraphSdl: built.supergraphSdl,
          builtInKey: builtInKey(builtIns),
        });
        const served = outcome.served && outcome.registryVersion >= built.next.version;
        if (!served && (await store.withdraw(built.next, state))) {
          log(`registry: withdrew ${what} (registry version ${built.next.version}): the swap failed: ${outcome.message}`);
          void live.sync();
          return refuse(
            res,
            503,
            ErrorCode.SWAP_FAILED,
            `${what} passed its checks, but the gateway could not swap to it (${live.problem?.message ?? 'see the gateway log'}); it was withdrawn and nothing is stored`,
            { accepted: false, report: built.report },
          );
        }
        res.status(status).json({
          accepted: true,
          registryVersion: built.next.version,
          served,
          message: outcome.message,
          report: built.report,
        });
        return;
      }
    }
    refuse(res, 409, ErrorCode.CONFLICT, `${what}: other changes kept landing first; try again`);
  }

  const change = (
    principal: Principal,
    action: RegistryChange['action'],
    subgraph: string | null,
    restored: number | null,
  ): RegistryChange => ({
    action,
    subgraph,
    restored,
    by: principal.supplier,
    at: new Date().toISOString(),
  });

  return (app) => {
    const json = express.json({ limit: '2mb' });
    mountMembershipRoutes(app, { membership: options.membership, registry: store, authorise, log });

    app.get('/registry/subgraphs', async (req, res) => {
      const state = await store.current();
      res.json({
        registryVersion: state.version,
        // `problem`: why the registry's current version is not served, when it is not.
        served: {
          registryVersion: live.registryVersion,
          supergraphVersion: live.version(),
          clusters: live.clusters,
          problem: live.problem,
        },
        builtIn: Object.keys(options.builtInUrls),
        // `?sdl=true` adds each SDL (open to read, as in the history): insights derives the
        // published clusters from them.
        subgraphs: req.query['sdl'] === 'true' ? state.subgraphs : state.subgraphs.map(({ sdl: _sdl, ...rest }) => rest),
      });
    });

    app.get('/registry/history', async (_req, res) => {
      const history = await store.history();
      res.json({
        versions: history.map((s) => ({
          registryVersion: s.version,
          change: s.change,
          subgraphs: s.subgraphs.map((p) => ({ name: p.name, version: p.version })),
        })),
      });
    });

    app.get('/registry/subgraphs/:name/history', async (req, res) => {
      const name = nameOf(req, res);
      if (!name) return;
      const history = await store.history();
      const versions = history.flatMap((s) => {
        if (s.change?.subgraph !== name && s.change?.action !== 'rollback') return [];
        const published = s.subgraphs.find((p) => p.name === name);
        return [{ registryVersion: s.version, change: s.change, subgraph: published ?? null }];
      });
      if (versions.length === 0) return refuse(res, 404, ErrorCode.NOT_FOUND, `Subgraph "${name}" was never published`);
      res.json({ name, versions });
    });

    app.post('/registry/subgraphs/:name', json, async (req, res) => {
      const name = nameOf(req, res);
      if (!name) return;
      const principal = authorise(req, res, name);
      if (!principal) return;
      if (!jsonBody(req, res, '{ "sdl": "...", "url": "http://…/graphql" }')) return;
      const body = publishBody.safeParse(req.body);
      if (!body.success) {
        const issue = body.error.issues[0];
        return refuse(
          res,
          400,
          ErrorCode.BAD_REQUEST,
          `Body field ${String(issue?.path[0] ?? '?')} ${issue?.message}; send JSON { "sdl": "...", "url": "http://…/graphql" }`,
        );
      }
      const what = `publish of ${name} by ${principal.supplier}`;
      // Bounded before anything costly: one parse of an SDL within the byte limit.
      const tooLarge = publishedSdlProblem(name, body.data.sdl, options.checks.sdl);
      if (tooLarge) {
        log(`registry: refused ${what}: ${tooLarge.message}`);
        const { message, ...limit } = tooLarge;
        return refuse(res, 413, ErrorCode.SDL_TOO_LARGE, `${what} refused: ${message}`, { accepted: false, limit });
      }
      const ops = await operations();
      await commit(principal, res, what, 201, async (state, builtIns) => {
        // Exactly the checks of subgraph:check (in the check worker), plus the URL: allowed,
        // tried, and asked which cluster it speaks for.
        const outcome = await checked(res, what, () =>
          checkPublication(
            { name, sdl: body.data.sdl, url: null, published: state.subgraphs, builtIns, operations: ops },
            { kind: 'publish', url: body.data.url, allowedHosts: options.allowedHosts },
            log,
            options.membership,
            (input) => runChecks(input, options.checks),
          ),
        );
        if (!outcome) return { answered: true };
        const report = outcome.report;
        if (!report.ok || !outcome.fullSdl || !outcome.url || !outcome.supergraphSdl) return { refused: report };
        const current = state.subgraphs.find((s) => s.name === name);
        const published: PublishedSubgraph = {
          name,
          url: outcome.url,
          sdl: outcome.fullSdl,
          version: (current?.version ?? 0) + 1,
          publishedAt: new Date().toISOString(),
          publishedBy: principal.supplier,
        };
        const subgraphs = [...state.subgraphs.filter((s) => s.name !== name), published];
        return {
          next: { version: state.version + 1, subgraphs, change: change(principal, 'publish', name, null) },
          report,
          supergraphSdl: outcome.supergraphSdl,
        };
      });
    });

    app.delete('/registry/subgraphs/:name', async (req, res) => {
      const name = nameOf(req, res);
      if (!name) return;
      const principal = authorise(req, res, name);
      if (!principal) return;
      // An operator may delete even what operations still use.
      const force = req.query['force'] === 'true' && principal.operator;
      const ops = await operations();
      const what = `withdrawal of ${name} by ${principal.supplier}`;
      await commit(principal, res, what, 200, async (state, builtIns) => {
        if (!state.subgraphs.some((s) => s.name === name))
          return { status: 404, code: ErrorCode.NOT_FOUND, message: `Subgraph "${name}" is not published` };
        const next = state.subgraphs.filter((s) => s.name !== name);
        const outcome = await checked(res, what, () =>
          runChangeChecks(
            { action: 'delete', subgraph: name, published: state.subgraphs, next, builtIns, operations: ops },
            options.checks,
          ),
        );
        if (!outcome) return { answered: true };
        const { report } = outcome;
        if (!report.composition.ok || !outcome.supergraphSdl || (!report.ok && !force)) return { refused: report };
        return {
          next: { version: state.version + 1, subgraphs: next, change: change(principal, 'delete', name, null) },
          report,
          supergraphSdl: outcome.supergraphSdl,
        };
      });
    });

    app.post('/registry/rollback', json, async (req, res) => {
      const principal = authorise(req, res, null);
      if (!principal) return;
      if (!jsonBody(req, res, '{ "version": 3 }')) return;
      const body = rollbackBody.safeParse(req.body);
      if (!body.success)
        return refuse(res, 400, ErrorCode.BAD_REQUEST, `Body field version ${body.error.issues[0]?.message}; send JSON { "version": 3 }`);
      const ops = await operations();
      const what = `rollback to registry version ${body.data.version} by ${principal.supplier}`;
      await commit(principal, res, what, 201, async (state, builtIns) => {
        const target = body.data.version === 0 ? { subgraphs: [] } : (await store.history()).find((s) => s.version === body.data.version);
        if (!target)
          return { status: 404, code: ErrorCode.NOT_FOUND, message: `Registry version ${body.data.version} is not in the kept history` };
        const outcome = await checked(res, what, () =>
          runChangeChecks(
            {
              action: 'rollback',
              subgraph: '(rollback)',
              published: state.subgraphs,
              next: target.subgraphs,
              builtIns,
              operations: ops,
            },
            options.checks,
          ),
        );
        if (!outcome) return { answered: true };
        const { report } = outcome;
        if (!report.composition.ok || !outcome.supergraphSdl) return { refused: report };
        return {
          next: { version: state.version + 1, subgraphs: target.subgraphs, change: change(principal, 'rollback', null, body.data.version) },
          supergraphSdl: outcome.supergraphSdl,
          report,
        };
      });
    });

    // A body that is not JSON is the caller's mistake; anything else (the store unreachable)
    // is answered as JSON too, and logged in full.
    app.use('/registry', (error: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: express.NextFunction) => {
      if (error.type === 'entity.parse.failed') return refuse(res, 400, ErrorCode.BAD_REQUEST, `The body is not JSON: ${error.message}`);
      if (error.type === 'entity.too.large') return refuse(res, 413, ErrorCode.BAD_REQUEST, 'The body is over 2 MB');
      if (error instanceof RegistryUnavailableError) {
        log(`registry: unavailable: ${error.message}`);
        return refuse(res, 503, ErrorCode.REGISTRY_UNAVAILABLE, "The registry's store cannot be reached now; try again shortly");
      }
      log(`registry: ${error.stack ?? error.message}`);
      refuse(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'The registry failed; see the gateway log');
    });
  };
}
