/**
 * The programme's membership at the registry:
 *
 * - `GET /registry/clusters`: every cluster (seed and registered) with its supplier and
 *   trusts, and the membership version; the subgraphs follow it (schema/membership.ts).
 * - `GET /registry/clusters/history`: each kept version with who changed what, and when.
 * - `POST /registry/clusters/:id` `{ name, supplier: { id, name }, trustsPlanned?, note?, trusts }`
 *   (operator): registers the cluster, or replaces its registration (201, or 200 when replaced).
 * - `DELETE /registry/clusters/:id` (operator): refused while a published subgraph speaks for it.
 *
 * A refusal names the field at fault; every change and refusal is logged with who.
 */
import express, { type Request, type Response } from 'express';
import { ErrorCode } from '../../schema/errors.js';
import { MEMBERSHIP_PATH, registrationSchema } from '../../schema/membership.js';
import { memberId, seed } from '../../schema/seed.js';
import { askClusterIdentity, feedStatusTypeOf } from './identity.js';
import { listMembership, registrationProblems, type MembershipProblem, type MembershipState, type MembershipStore } from './membership.js';
import type { RegistryStore } from './store.js';
import type { Principal } from './tokens.js';

export interface MembershipRoutesOptions {
  readonly membership: MembershipStore;
  /** The subgraph registry: which published subgraphs speak for a cluster. */
  readonly registry: RegistryStore;
  /** The registry's token check: the caller, when allowed (`null`: operator only); otherwise answered. */
  readonly authorise: (req: Request, res: Response, name: string | null) => Principal | null;
  readonly log: (line: string) => void;
}

/** How many times a change is retried when another change landed first. */
const ATTEMPTS = 5;
const EXAMPLE =
  '{ "name": "North East", "supplier": { "id": "ACCENTURE", "name": "Accenture" }, "trusts": [{ "odsCode": "RXX", "name": "..." }] }';

function refuse(res: Response, status: number, code: ErrorCode, message: string, field?: string): void {
  res.status(status).json({ error: { code, message, ...(field ? { field } : {}) } });
}

/** The published subgraphs that say they speak for cluster `id`, and those that would not say. */
async function speakersFor(
  registry: RegistryStore,
  id: string,
  log: (line: string) => void,
): Promise<{ speaking: string[]; silent: string[] }> {
  const published = (await registry.current()).subgraphs;
  const answers = await Promise.all(
    published.map(async (subgraph) => {
      const feedStatusType = feedStatusTypeOf(subgraph.sdl);
      if (!feedStatusType) return { name: subgraph.name, speaks: false, silent: false };
      const identity = await askClusterIdentity(subgraph.url, subgraph.name, feedStatusType, log);
      return 'code' in identity
        ? { name: subgraph.name, speaks: false, silent: true }
        : { name: subgraph.name, speaks: identity.cluster === id, silent: false };
    }),
  );
  return { speaking: answers.filter((a) => a.speaks).map((a) => a.name), silent: answers.filter((a) => a.silent).map((a) => a.name) };
}

/** Mounts the membership endpoints; before the registry's own error handler. */
export function mountMembershipRoutes(app: express.Express, options: MembershipRoutesOptions): void {
  const { membership, log } = options;
  const json = express.json({ limit: '256kb' });

  /**
   * Commits `build(state)` by compare-and-set, rebuilt on the state that won a race: the new
   * state, the problem `build` found (nothing written), or null when other changes kept landing first.
   */
  async function commit(
    build: (state: MembershipState) => MembershipState | MembershipProblem,
  ): Promise<MembershipState | MembershipProblem | null> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const state = await membership.current();
      const next = build(state);
      if ('field' in next || (await membership.compareAndSet(state.version, next))) return next;
    }
    return null;
  }

  /** The `:id` of the path when it is a cluster id; otherwise answered. */
  function clusterId(req: Request, res: Response): string | null {
    const id = String(req.params['id']);
    const parsed = memberId.safeParse(id);
    if (parsed.success) return id;
    refuse(res, 400, ErrorCode.BAD_REQUEST, `Cluster id ${JSON.stringify(id.slice(0, 40))} ${parsed.error.issues[0]?.message}`, 'id');
    return null;
  }

  app.get(MEMBERSHIP_PATH, async (_req, res) => {
    res.json(listMembership(await membership.current()));
  });

  app.get(`${MEMBERSHIP_PATH}/history`, async (_req, res) => {
    const history = await membership.history();
    res.json({ versions: history.map((s) => ({ version: s.version, change: s.change, clusters: s.clusters.map((c) => c.id) })) });
  });

  app.post(`${MEMBERSHIP_PATH}/:id`, json, async (req, res) => {
    const principal = options.authorise(req, res, null);
    if (!principal) return;
    const id = clusterId(req, res);
    if (!id) return;
    if (!req.is('application/json'))
      return refuse(
        res,
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        `Send the body as JSON with Content-Type: application/json, e.g. ${EXAMPLE}`,
      );
    const body = registrationSchema.safeParse(req.body);
    if (!body.success) {
      const issue = body.error.issues[0];
      const field =
        issue?.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '') || '(body)';
      log(`registry: refused registration of cluster ${id} by ${principal.supplier}: ${field} ${issue?.message}`);
      return refuse(res, 400, ErrorCode.BAD_REQUEST, `Body field ${field} ${issue?.message}; send JSON ${EXAMPLE}`, field);
    }
    let replaced = false;
    const next = await commit((state) => {
      const problem = registrationProblems(state, id, body.data)[0];
      if (problem) return problem;
      replaced = state.clusters.some((c) => c.id === id);
      const at = new Date().toISOString();
      const cluster = { ...body.data, id, registeredBy: principal.supplier, registeredAt: at };
      return {
        version: state.version + 1,
        clusters: [...state.clusters.filter((c) => c.id !== id), cluster],
        change: { action: 'register', cluster: id, by: principal.supplier, at },
      };
    });
    if (next && 'field' in next) {
      log(`registry: refused registration of cluster ${id} by ${principal.supplier}: ${next.field}: ${next.message}`);
      const where = next.field === 'id' ? 'Cluster id' : `Body field ${next.field}`;
      return refuse(res, 409, ErrorCode.MEMBERSHIP_REFUSED, `${where}: ${next.message}`, next.field);
    }
    if (!next) return refuse(res, 409, ErrorCode.CONFLICT, `Registration of cluster ${id}: other changes kept landing first; try again`);
    log(
      `registry: cluster ${id} ${replaced ? 're-registered' : 'registered'} by ${principal.supplier} (membership version ${next.version})`,
    );
    res
      .status(replaced ? 200 : 201)
      .json({ accepted: true, membershipVersion: next.version, cluster: listMembership(next).clusters.find((c) => c.id === id) });
  });

  app.delete(`${MEMBERSHIP_PATH}/:id`, async (req, res) => {
    const principal = options.authorise(req, res, null);
    if (!principal) return;
    const id = clusterId(req, res);
    if (!id) return;
    if (seed.clusters.some((c) => c.id === id))
      return refuse(
        res,
        409,
        ErrorCode.MEMBERSHIP_REFUSED,
        `Cluster ${id} is in the programme's seed (schema/seed.json); only registered clusters can be removed`,
        'id',
      );
    if (!(await membership.current()).clusters.some((c) => c.id === id))
      return refuse(res, 404, ErrorCode.NOT_FOUND, `Cluster ${id} is not registered`, 'id');
    const { speaking, silent } = await speakersFor(options.registry, id, log);
    if (speaking.length > 0 || silent.length > 0) {
      const why =
        speaking.length > 0
          ? `the published subgraph${speaking.length === 1 ? '' : 's'} ${speaking.join(', ')} speak${speaking.length === 1 ? 's' : ''} for it`
          : `the published subgraph${silent.length === 1 ? '' : 's'} ${silent.join(', ')} did not say which cluster ${silent.length === 1 ? 'it speaks' : 'they speak'} for`;
      log(`registry: refused removal of cluster ${id} by ${principal.supplier}: ${why}`);
      return refuse(
        res,
        409,
        ErrorCode.MEMBERSHIP_IN_USE,
        `Cluster ${id} cannot be removed: ${why}; withdraw it first (DELETE /registry/subgraphs/<name>)`,
      );
    }
    const next = await commit((state) => ({
      version: state.version + 1,
      clusters: state.clusters.filter((c) => c.id !== id),
      change: { action: 'remove', cluster: id, by: principal.supplier, at: new Date().toISOString() },
    }));
    if (!next || 'field' in next)
      return refuse(res, 409, ErrorCode.CONFLICT, `Removal of cluster ${id}: other changes kept landing first; try again`);
    log(`registry: cluster ${id} removed by ${principal.supplier} (membership version ${next.version})`);
    res.status(200).json({ accepted: true, membershipVersion: next.version });
  });

  app.use(MEMBERSHIP_PATH, (error: Error & { type?: string }, _req: Request, res: Response, next: express.NextFunction) => {
    if (error.type === 'entity.parse.failed') return refuse(res, 400, ErrorCode.BAD_REQUEST, `The body is not JSON: ${error.message}`);
    if (error.type === 'entity.too.large') return refuse(res, 413, ErrorCode.BAD_REQUEST, 'The body is over 256 kB');
    next(error);
  });
}
