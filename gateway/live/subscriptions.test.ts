import { describe, expect, it } from 'vitest';
import { boundedEvents } from './subscriptions.js';

/** Pipes `chunks` through the bound and reads everything that comes out. */
async function pass(max: number, chunks: string[]): Promise<string> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  return new Response(source.pipeThrough(boundedEvents(max, 'insights'))).text();
}

describe('boundedEvents', () => {
  it('passes events under the bound, however long the stream', async () => {
    const event = 'event: next\ndata: {"data":{}}\n\n';
    expect(
      await pass(
        40,
        Array.from({ length: 50 }, () => event),
      ),
    ).toBe(event.repeat(50));
  });

  it('fails the stream on one event over the bound, naming the subgraph and the setting', async () => {
    await expect(pass(40, ['event: next\ndata: ', 'x'.repeat(30), '\n\n'])).rejects.toThrow(
      /insights pushed an event over 40 bytes \(SUBGRAPH_MAX_RESPONSE_BYTES\)/,
    );
  });
});
