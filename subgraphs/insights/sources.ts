/**
 * Where insights learns the cluster subgraphs' SDL, over HTTP only: a built-in cluster
 * subgraph from its own URL (`{ _service { sdl } }`, as any federation subgraph answers), the
 * published ones from the gateway's registry (`GET /registry/subgraphs?sdl=true`).
 *
 * Why the registry's stored SDLs and not the gateway's served supergraph (whose `join__Graph`
 * and `@join__field` would also say which subgraph owns each cluster-view field): a gateway
 * swaps to a supergraph only once insights serves its clusters, so insights must know a
 * published cluster before any gateway serves it. The registry's current state is exactly
 * what every gateway is about to compose, and the same on every replica.
 *
 * What comes back is bounded (size, time) and checked for shape: a bad answer is an error
 * naming the URL, never a schema built from half a document.
 */
import { z } from 'zod';
import { ErrorCode } from '../../schema/errors.js';
import type { SubgraphSdl } from '../../schema/cluster-views.js';

/** Answers over this many bytes are refused: some sixty published subgraphs at the registry's default SDL limit. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** How long one read may take. */
const READ_TIMEOUT_MS = 3000;

/** The registry's published subgraphs, or `off` when that gateway has no registry. */
export type RegistryRead =
  | { readonly kind: 'published'; readonly registryVersion: number; readonly subgraphs: (SubgraphSdl & { readonly url: string })[] }
  | { readonly kind: 'off' };

/** The body of `response` as JSON, refused past `MAX_ANSWER_BYTES` (the header may lie or be absent). */
async function boundedJson(response: Response, url: string): Promise<unknown> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_ANSWER_BYTES) throw new Error(`${url} answered ${declared} bytes; insights reads at most ${MAX_ANSWER_BYTES}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    size += read.value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader?.cancel();
      throw new Error(`${url} answered over ${MAX_ANSWER_BYTES} bytes; insights reads at most that`);
    }
    chunks.push(read.value);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error(`${url} did not answer JSON`);
  }
}

const serviceAnswer = z.object({ data: z.object({ _service: z.object({ sdl: z.string().min(1) }) }) });

/** The full SDL a federation subgraph serves at `url`. */
export async function readServedSdl(url: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
    signal: AbortSignal.timeout(READ_TIMEOUT_MS),
  });
  const body = await boundedJson(response, url);
  const parsed = serviceAnswer.safeParse(body);
  if (!response.ok || !parsed.success) throw new Error(`${url} did not answer { _service { sdl } } (HTTP ${response.status})`);
  return parsed.data.data._service.sdl;
}

const registryAnswer = z.object({
  registryVersion: z.number().int().min(0),
  subgraphs: z.array(z.object({ name: z.string().min(1).max(63), sdl: z.string().min(1), url: z.string().url().max(2048) })),
});

/** The published subgraphs of the registry at the gateway `baseUrl`, with their SDL. */
export async function readRegistry(baseUrl: string): Promise<RegistryRead> {
  const url = new URL('/registry/subgraphs?sdl=true', baseUrl).toString();
  const response = await fetch(url, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
  const body = await boundedJson(response, url);
  if (response.status === 409 && (body as { error?: { code?: unknown } })?.error?.code === ErrorCode.REGISTRY_DISABLED)
    return { kind: 'off' };
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  const parsed = registryAnswer.safeParse(body);
  if (!parsed.success) throw new Error(`${url} did not list the published subgraphs with their SDL`);
  return { kind: 'published', registryVersion: parsed.data.registryVersion, subgraphs: parsed.data.subgraphs };
}
