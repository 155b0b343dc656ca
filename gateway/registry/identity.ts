/**
 * Which cluster and supplier a published cluster subgraph speaks for, as it says itself (its
 * `<Name>FeedStatus` entity), checked against the programme's membership: the seed and the
 * clusters operators registered (membership.ts), read at the time of the check. A cluster the
 * programme does not know has no name, provider or note there, and those fields are non-null:
 * one comparison asking `clusters { name }` would lose its whole answer. So a publish for an
 * unknown cluster or supplier is refused, with the command that registers it.
 */
import { Kind, parse } from 'graphql';
import type { CheckIssue } from './conformance.js';
import { memberIds, whatToRegister, type MembershipStore } from './membership.js';

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

/** The cluster and supplier the subgraph at `url` says it speaks for, or the issue that it did not say. */
export async function askClusterIdentity(
  url: string,
  subgraph: string,
  feedStatusType: string,
): Promise<{ clusterId: string; supplierId: string } | { issue: CheckIssue }> {
  const query = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on ${feedStatusType} { cluster { id } supplier { id } } } }`;
  let answer: IdentityAnswer;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables: { r: [{ __typename: feedStatusType, id: subgraph }] } }),
      signal: AbortSignal.timeout(3000),
    });
    answer = (await response.json()) as IdentityAnswer;
  } catch (error) {
    return { issue: { code: 'CONTRACT_IDENTITY', message: `${url} did not say which cluster it serves: ${(error as Error).message}` } };
  }
  const entity = answer.data?._entities?.[0];
  const clusterId = entity?.cluster?.id;
  const supplierId = entity?.supplier?.id;
  if (typeof clusterId !== 'string' || typeof supplierId !== 'string') {
    const why = answer.errors?.map((e) => String(e.message)).join('; ') || 'no cluster and supplier in its answer';
    return { issue: { code: 'CONTRACT_IDENTITY', message: `${url} did not say which cluster it serves (${feedStatusType}): ${why}` } };
  }
  return { clusterId, supplierId };
}

/** Problems with the cluster and supplier `clusterId`/`supplierId` against the membership now (none: fine). */
export async function membershipIssues(membership: MembershipStore, clusterId: string, supplierId: string): Promise<CheckIssue[]> {
  const state = await membership.current();
  const known = memberIds(state);
  const register = whatToRegister(state, clusterId, supplierId);
  const issues: CheckIssue[] = [];
  if (!known.clusters.includes(clusterId))
    issues.push({
      code: 'CONTRACT_CLUSTER_UNKNOWN',
      message:
        `Cluster ${clusterId} is not in the programme's membership (${known.clusters.join(', ')}): ` +
        `its name and provider would be null, failing every comparison that asks for them. ${register}`,
    });
  if (!known.suppliers.includes(supplierId))
    issues.push({
      code: 'CONTRACT_SUPPLIER_UNKNOWN',
      message: `Supplier ${supplierId} is not in the programme's membership (${known.suppliers.join(', ')}). ${register}`,
    });
  return issues;
}

/** Problems with the cluster and supplier the subgraph at `url` reports for itself (none: fine). */
export async function checkClusterIdentity(
  url: string,
  subgraph: string,
  feedStatusType: string,
  membership: MembershipStore,
): Promise<CheckIssue[]> {
  const identity = await askClusterIdentity(url, subgraph, feedStatusType);
  if ('issue' in identity) return [identity.issue];
  return membershipIssues(membership, identity.clusterId, identity.supplierId);
}

/**
 * The membership check of `subgraph:check`: for a cluster subgraph (one with a FeedStatus
 * type), the cluster and supplier named (`--cluster`, `--supplier`), else those its running
 * service at `url` reports; null when neither is known, so the check cannot tell.
 */
export async function offlineIdentityIssues(input: {
  readonly name: string;
  readonly fullSdl: string | null;
  readonly url: string | null;
  readonly clusterId: string | null;
  readonly supplierId: string | null;
  readonly membership: MembershipStore;
}): Promise<CheckIssue[] | null> {
  const feedStatusType = input.fullSdl ? feedStatusTypeOf(input.fullSdl) : null;
  if (!feedStatusType) return [];
  if (input.clusterId && input.supplierId) return membershipIssues(input.membership, input.clusterId, input.supplierId);
  if (input.url) return checkClusterIdentity(input.url, input.name, feedStatusType, input.membership);
  return null;
}
