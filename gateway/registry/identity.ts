/**
 * Which cluster and supplier a cluster subgraph speaks for, checked against the programme's
 * reference data. A cluster the programme does not know has no name, provider or note there,
 * and those fields are non-null: one comparison asking `clusters { name }` would lose its
 * whole answer. So a subgraph for an unknown cluster or supplier is refused, naming the ones
 * the programme knows. A publish asks the running subgraph (its `<Name>FeedStatus` entity);
 * `subgraph:check` takes what the supplier declares. Both go through `checkIdentity`.
 */
import { CheckCode } from '../../schema/errors.js';
import { builtInReference } from '../../subgraphs/programme/reference.js';
import type { CheckIssue } from './conformance.js';
import { fetchSubgraph } from '../subgraph-fetch.js';

/** The cluster and supplier a subgraph speaks for, by their reference-data ids. */
export interface ClusterIdentity {
  readonly cluster: string;
  readonly supplier: string;
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

/** Problems with the cluster and supplier a subgraph speaks for (none: both are known). */
export function checkIdentity(identity: ClusterIdentity): CheckIssue[] {
  const issues: CheckIssue[] = [];
  const clusters = builtInReference.clusters.map((c) => c.id);
  if (!clusters.includes(identity.cluster))
    issues.push({
      code: CheckCode.CONTRACT_CLUSTER_UNKNOWN,
      message:
        `Cluster ${identity.cluster} is not in the programme's reference data (${clusters.join(', ')}): ` +
        'its name and provider would be null, failing every comparison that asks for them; use a known cluster id',
    });
  const suppliers = builtInReference.suppliers.map((s) => s.id);
  if (!suppliers.includes(identity.supplier))
    issues.push({
      code: CheckCode.CONTRACT_SUPPLIER_UNKNOWN,
      message: `Supplier ${identity.supplier} is not in the programme's reference data (${suppliers.join(', ')}); use a known supplier id`,
    });
  return issues;
}

/**
 * What `subgraph:new` would have declared for subgraph `name`: the cluster its name comes
 * from (`north-east` from `NORTH-EAST`), and that cluster's service provider, if the
 * programme knows the cluster (else none, and the check names the unknown cluster).
 */
export function declaredIdentity(name: string, cluster?: string, supplier?: string): ClusterIdentity {
  const clusterId = (cluster ?? name).toUpperCase();
  const provider = builtInReference.clusters.find((c) => c.id === clusterId)?.serviceProviderId;
  return { cluster: clusterId, supplier: supplier?.toUpperCase() ?? provider ?? '(none given: pass --supplier ID)' };
}
