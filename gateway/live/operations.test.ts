import { describe, expect, it } from 'vitest';
import { errorMasking } from '../../schema/error-mask.js';
import { LiveQueries, type Execution, type StreamRequest } from './live-queries.js';
import { maskWith, streamOperations } from './operations.js';

function setup() {
  const lines: string[] = [];
  const { formatError } = errorMasking({ service: 'gateway', log: (line) => lines.push(line) });
  const mask = maskWith(formatError, (line) => lines.push(line));
  const ran: StreamRequest[] = [];
  const run = async (request: StreamRequest): Promise<Execution> => {
    ran.push(request);
    return { result: { data: { ok: true } }, touched: new Map() };
  };
  const live = new LiveQueries({
    execute: run,
    feedVersions: { version: () => null, onChange: () => () => {} },
    onSupergraphChange: () => () => {},
  });
  const open = streamOperations({ live, run, mask, maxTokens: 1000 });
  return { lines, mask, open, ran, live };
}

const request = (query: string): StreamRequest => ({ query, headers: new Map() });

describe('stream operations', () => {
  it('runs an operation without @live once, and a @live one as a stream, neither with the directive', async () => {
    const { open, ran, live } = setup();
    expect(await open(request('{ ok }'))).toEqual({ data: { ok: true } });
    const stream = await open(request('query Q @live { ok }'));
    expect(Symbol.asyncIterator in stream).toBe(true);
    expect(live.groups).toBe(1);
    expect(ran.map((r) => r.query)).toEqual(['{ ok }', expect.not.stringMatching(/@live/)]);
    await (stream as AsyncGenerator).return(undefined);
  });

  it("masks an error raised outside Apollo's pipeline as the gateway's formatError does, and logs it whole", () => {
    const { mask, lines } = setup();
    expect(mask(new Error('connect ECONNREFUSED redis://admin:secret@10.0.0.5:6379'))).toEqual([
      { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
    expect(lines.join('\n')).toMatch(/masked as INTERNAL_SERVER_ERROR: Error: connect ECONNREFUSED redis:\/\/admin:secret/);
  });

  it('keeps a public error as it is: @live on a mutation', async () => {
    const { open, lines } = setup();
    expect(await open(request('mutation M @live { ok }'))).toEqual({
      errors: [{ message: '@live applies to queries only, not to the mutation M', extensions: { code: 'BAD_USER_INPUT' } }],
    });
    expect(lines).toEqual([]);
  });
});
