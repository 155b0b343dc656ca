/**
 * Which cluster and supplier a cluster subgraph speaks for, checked against the programme's
 * membership: the seed and the clusters operators registered (membership.ts), read at the
 * time of the check. A cluster the programme does not know has no name, provider or note
 * there, and those fields are non-null: one comparison asking `clusters { name }` would lose
 * its whole answer. So a subgraph for an unknown cluster or supplier is refused, with the
 * command that registers it. A publish asks the running subgraph (its `<Name>FeedStatus`
 * entity); `subgraph:check` takes what the supplier declares. Both go through `checkIdentity`.
 */
import { Kind, parse } from 'graphql';
import { CheckCode } from '../../schema/errors.js';
import { seed } from '../../schema/seed.js';
import type { CheckIssue } from './conformance.js';
import { memberIds, whatToRegister, type MembershipState, type MembershipStore } from './membership.js';
import { fetchSubgraph } from '../subgraph-fetch.js';

/** The cluster and supplier a subgraph speaks for, by their membership ids. */
export interface ClusterIdentity {
  readonly cluster: string;
  readonly supplier: string;
}

/**
 * The type by which a cluster subgraph's SDL says who it is (the one implementing the
 * contract's `FeedStatus`), or null for a subgraph that is not a cluster's (or does not parse).
 */
export function feedStatusTypeOf(sdl: string): string | null {
  let document;
  try {
    document = parse(sdl);
  } catch {
    return null;
  }
  const found = document.definitions.find(
    (d) =>
      (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) &&
      d.interfaces?.some((i) => i.name.value === 'FeedStatus'),
  );
  return found && 'name' in found && found.name ? found.name.value : null;
}

interface IdentityAnswer {
  data?: { _entities?: ({ cluster?: { id?: unknown }; supplier?: { id?: unknown } } | null)[] };
  errors?: { message?: unknown }[];
}

/**
 * Asks the subgraph at `url` (already allowed and answering as a subgraph) which cluster and
 * supplier it speaks for. What it answered otherwise goes to `log`, never into the issue:
 * the issue reaches the caller of the publish.
 */
export async function askClusterIdentity(
  url: string,
  subgraph: string,
  feedStatusType: string,
  log: (line: string) => void,
): Promise<ClusterIdentity | CheckIssue> {
  const query = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on ${feedStatusType} { cluster { id } supplier { id } } } }`;
  const refused: CheckIssue = {
    code: CheckCode.CONTRACT_IDENTITY,
    message: `The subgraph did not say which cluster and supplier it serves: its ${feedStatusType} entity "${subgraph}" has no cluster { id } and supplier { id }`,
  };
  try {
    const response = await fetchSubgraph(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables: { r: [{ __typename: feedStatusType, id: subgraph }] } }),
      signal: AbortSignal.timeout(3000),
    });
    const answer = (await response.json()) as IdentityAnswer;
    const entity = answer.data?._entities?.[0];
    const cluster = entity?.cluster?.id;
    const supplier = entity?.supplier?.id;
    if (typeof cluster === 'string' && typeof supplier === 'string') return { cluster, supplier };
    log(`registry: ${url} gave no identity for ${feedStatusType}: ${JSON.stringify(answer.errors ?? answer.data ?? null).slice(0, 500)}`);
  } catch (error) {
    log(`registry: ${url} gave no identity for ${feedStatusType}: ${(error as Error).message}`);
  }
  return refused;
}

/** Problems with the cluster and supplier a subgraph speaks for, against the membership now (none: both are known). */
export async function checkIdentity(identity: ClusterIdentity, membership: MembershipStore): Promise<CheckIssue[]> {
  const state = await membership.current();
  const known = memberIds(state);
  const register = whatToRegister(state, identity.cluster, identity.supplier);
  const issues: CheckIssue[] = [];
  if (!known.clusters.includes(identity.cluster))
    issues.push({
      code: CheckCode.CONTRACT_CLUSTER_UNKNOWN,
      message:
        `Cluster ${identity.cluster} is not in the programme's membership (${known.clusters.join(', ')}): ` +
        `its name and provider would be null, failing every comparison that asks for them. ${register}`,
    });
  if (!known.suppliers.includes(identity.supplier))
    issues.push({
      code: CheckCode.CONTRACT_SUPPLIER_UNKNOWN,
      message: `Supplier ${identity.supplier} is not in the programme's membership (${known.suppliers.join(', ')}). ${register}`,
    });
  return issues;
}

/**
 * What `subgraph:new` would have declared for subgraph `name`: the cluster its name comes
 * from (`north-east` from `NORTH-EAST`), and that cluster's service provider, if the
 * membership knows the cluster (else none, and the check names the unknown cluster).
 */
export function declaredIdentity(name: string, state: MembershipState, cluster?: string, supplier?: string): ClusterIdentity {
  const clusterId = (cluster ?? name).toUpperCase();
  const provider =
    seed.clusters.find((c) => c.id === clusterId)?.serviceProviderId ?? state.clusters.find((c) => c.id === clusterId)?.supplier.id;
  return { cluster: clusterId, supplier: supplier?.toUpperCase() ?? provider ?? '(none given: pass --supplier ID)' };
}
