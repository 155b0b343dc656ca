// Calls the gateway's persisted operations by id: kept current over server-sent events
// (`@live` operations, graphql-sse's client: the page loads its UMD build, global
// `graphqlSse`), or once over GET (cacheable), as dashboards should.

const POLL_MS = 30_000;
/** Client awareness: the gateway's logs, metrics and check reports name the dashboard. */
const CLIENT = { 'apollographql-client-name': 'board-dashboard' };
const RECONNECT_MS = [1_000, 2_000, 5_000, 10_000, POLL_MS];

/** The outcome of one operation: its data (possibly partial) and its errors, never a throw. */
export async function persisted(documentId, variables = {}) {
  const params = new URLSearchParams({ documentId, variables: JSON.stringify(variables) });
  try {
    const response = await fetch(`/graphql?${params}`, {
      // Revalidate: the gateway's answers are cacheable, but a new report must show at once.
      cache: 'no-cache',
      // A non-simple header, as the gateway's CSRF prevention asks of GET requests.
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true', ...CLIENT },
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

/** One client for the page's streams: each is its own request (distinct connections mode). */
const client = graphqlSse.createClient({
  url: new URL('/graphql', location.href).href,
  // This module reconnects itself, polling meanwhile, so the page is never without answers.
  retryAttempts: 0,
  headers: CLIENT,
});

const same = (a, b) => a !== null && JSON.stringify(a) === JSON.stringify(b);

/**
 * Follows one live persisted operation: `onAnswer` gets its answer (as `persisted` gives it)
 * once, then again only when the answer changes. Streaming refused (429) or lost, it asks
 * by GET every 30 s and reconnects (1 s, 2 s, 5 s, 10 s, then 30 s apart); `onMode` hears
 * 'live' or 'polling'. Returns a function that stops it.
 */
export function followLive(documentId, variables, onAnswer, onMode) {
  let stopped = false;
  let last = null;
  let attempt = 0;
  let unsubscribe = null;
  let poll = null;
  let reconnect = null;
  const give = (answer) => {
    if (stopped || same(last, answer)) return;
    last = answer;
    onAnswer(answer);
  };
  const ask = async () => give(await persisted(documentId, variables));
  const stream = () => {
    reconnect = null;
    unsubscribe = client.subscribe(
      { documentId, variables },
      {
        next: (result) => {
          attempt = 0;
          clearInterval(poll);
          poll = null;
          onMode('live');
          give({ data: result.data ?? null, errors: result.errors ?? [] });
        },
        error: fallBack,
        // The gateway ended the stream (idle, lifetime, drain): pick it up again.
        complete: fallBack,
      },
    );
  };
  function fallBack() {
    unsubscribe = null;
    if (stopped) return;
    onMode('polling');
    if (!poll) {
      void ask();
      poll = setInterval(ask, POLL_MS);
    }
    reconnect = setTimeout(stream, RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)]);
  }
  stream();
  return () => {
    stopped = true;
    unsubscribe?.();
    clearInterval(poll);
    clearTimeout(reconnect);
  };
}

export { POLL_MS };
