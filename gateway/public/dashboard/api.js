// Calls the gateway's persisted operations by id over GET (cacheable), as dashboards should.

/** The outcome of one operation: its data (possibly partial) and its errors, never a throw. */
export async function persisted(documentId, variables = {}) {
  const params = new URLSearchParams({ documentId, variables: JSON.stringify(variables) });
  try {
    const response = await fetch(`/graphql?${params}`, {
      // Revalidate: the gateway's answers are cacheable, but a new report must show at once.
      cache: 'no-cache',
      // A non-simple header, as the gateway's CSRF prevention asks of GET requests.
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    const body = await response.json().catch(() => null);
    if (!body || typeof body !== 'object') {
      return { data: null, errors: [{ message: `The gateway answered ${response.status} without a GraphQL response` }] };
    }
    return { data: body.data ?? null, errors: body.errors ?? [] };
  } catch (error) {
    return {
      data: null,
      errors: [{ message: `The gateway did not answer (${error.message})`, extensions: { code: 'GATEWAY_UNREACHABLE' } }],
    };
  }
}

/** Who an error is about: the subgraph it names (`extensions.subgraph`), else null (the whole operation). */
export function errorSubject(error) {
  const named = error.extensions?.subgraph;
  return typeof named === 'string' ? named : null;
}

/** One line per distinct problem, for the page's alert. */
export function describeErrors(errors) {
  const lines = errors.map((error) => {
    const code = error.extensions?.code;
    return code ? `${error.message} (${code})` : error.message;
  });
  return [...new Set(lines)];
}
