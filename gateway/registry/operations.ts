/**
 * Records the operations the gateway executes (one per name, the latest text, a bounded
 * number), so a schema check can say which operations in real use a change would break, not
 * only the persisted ones. Kept in memory and written to the registry's store every few
 * seconds, so every replica's traffic counts and `subgraph:check` can read it offline.
 */
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { mergeOperations, OPERATIONS_LIMIT, type RecordedOperation, type RegistryStore } from './store.js';

/** Operations longer than this are not recorded (a check needs dashboards' operations, not every query). */
const MAX_DOCUMENT_CHARS = 20_000;
/** An operation seen again within this long is not recorded again: one map lookup per request. */
const RECORD_AGAIN_MS = 60_000;

export interface OperationRecorder {
  readonly plugin: ApolloServerPlugin<BaseContext>;
  /** Writes what was recorded since the last flush. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Records executed operations into `store`, flushing every `intervalMs`. */
export function recordOperations(
  store: RegistryStore,
  options: { intervalMs?: number; log?: (line: string) => void } = {},
): OperationRecorder {
  let pending: RecordedOperation[] = [];
  const recent = new Map<string, number>();
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    try {
      await store.recordOperations(batch);
    } catch (error) {
      options.log?.(`gateway: recorded operations not saved: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(() => void flush(), options.intervalMs ?? 2000);
  timer.unref();
  const plugin: ApolloServerPlugin<BaseContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ source, operationName, operation }) {
          if (!source || source.length > MAX_DOCUMENT_CHARS || operation?.operation !== 'query') return;
          const now = Date.now();
          const key = `${operationName ?? ''}\n${source}`;
          if (now - (recent.get(key) ?? 0) < RECORD_AGAIN_MS) return;
          if (recent.size >= 4 * OPERATIONS_LIMIT) recent.clear();
          recent.set(key, now);
          const name = operationName ?? `anonymous:${createHash('sha256').update(source).digest('hex').slice(0, 12)}`;
          pending = mergeOperations(pending, [{ name, document: source, lastSeen: new Date(now).toISOString() }]);
        },
      };
    },
  };
  return {
    plugin,
    flush,
    close: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}
