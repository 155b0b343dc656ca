/**
 * Which cluster and supplier a published cluster subgraph speaks for, as it says itself (its
 * `<Name>FeedStatus` entity), checked against the programme's reference data. A cluster the
 * programme does not know has no name, provider or note there, and those fields are non-null:
 * one comparison asking `clusters { name }` would lose its whole answer. So a publish for an
 * unknown cluster or supplier is refused, naming the ones the programme knows.
 */
import { builtInReference } from '../../subgraphs/programme/reference.js';
import type { CheckIssue } from './conformance.js';

interface IdentityAnswer {
  data?: { _entities?: ({ cluster?: { id?: unknown }; supplier?: { id?: unknown } } | null)[] };
  errors?: { message?: unknown }[];
}

/** Problems with the cluster and supplier the subgraph at `url` reports for itself (none: fine). */
export async function checkClusterIdentity(url: string, subgraph: string, feedStatusType: string): Promise<CheckIssue[]> {
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
    return [{ code: 'CONTRACT_IDENTITY', message: `${url} did not say which cluster it serves: ${(error as Error).message}` }];
  }
  const entity = answer.data?._entities?.[0];
  const clusterId = entity?.cluster?.id;
  const supplierId = entity?.supplier?.id;
  if (typeof clusterId !== 'string' || typeof supplierId !== 'string') {
    const why = answer.errors?.map((e) => String(e.message)).join('; ') || 'no cluster and supplier in its answer';
    return [{ code: 'CONTRACT_IDENTITY', message: `${url} did not say which cluster it serves (${feedStatusType}): ${why}` }];
  }
  const issues: CheckIssue[] = [];
  const clusters = builtInReference.clusters.map((c) => c.id);
  if (!clusters.includes(clusterId))
    issues.push({
      code: 'CONTRACT_CLUSTER_UNKNOWN',
      message:
        `Cluster ${clusterId} is not in the programme's reference data (${clusters.join(', ')}): ` +
        'its name and provider would be null, failing every comparison that asks for them; use a known cluster id',
    });
  const suppliers = builtInReference.suppliers.map((s) => s.id);
  if (!suppliers.includes(supplierId))
    issues.push({
      code: 'CONTRACT_SUPPLIER_UNKNOWN',
      message: `Supplier ${supplierId} is not in the programme's reference data (${suppliers.join(', ')}); use a known supplier id`,
    });
  return issues;
}
