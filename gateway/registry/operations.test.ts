/** The operation recorder on a real Apollo Server and a real file store: who may record, how many, and hits. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { afterEach, describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../caller.js';
import { subjectHash } from '../client-awareness.js';
import { recordOperations, type OperationRecorder } from './operations.js';
import { FileRegistryStore } from './store.js';
import { mintToken } from './tokens.js';

const digest = (key: string) => createHash('sha256').update(key).digest('hex');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(perClient = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'msg-recorder-'));
  const tokensFile = join(dir, 'tokens.json');
  const token = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme'], operator: false });
  const store = new FileRegistryStore(dir);
  const recorder: OperationRecorder = recordOperations(store, {
    identities: { apiKeys: new Set([digest('dash-a'), digest('dash-b')]), tokensFile },
    perClient,
    intervalMs: 60_000,
    againMs: 0,
  });
  const server = new ApolloServer({
    typeDefs: 'type Query { a: Int b: Int }',
    resolvers: { Query: { a: () => 1, b: () => 2 } },
    plugins: [recorder.plugin],
  });
  await server.start();
  cleanup.push(
    () => rmSync(dir, { recursive: true, force: true }),
    () => store.close(),
    () => recorder.close(),
    () => server.stop(),
  );
  const run = async (query: string, headers: Record<string, string> = {}) => {
    const response = await server.executeOperation({
      query,
      http: { method: 'POST', headers: new HeaderMap(Object.entries(headers)), search: '', body: {} },
    });
    expect(response.body.kind === 'single' && response.body.singleResult.errors).toBeFalsy();
  };
  const stored = async () => {
    await recorder.flush();
    return store.recentOperations();
  };
  return { recorder, run, stored, token };
}

describe('recorded operations', () => {
  it('records only identified clients: a known API key or a registry token, never anonymous or a made-up key', async () => {
    const { run, stored, token } = await setup();
    await run('query Anonymous { a }');
    await run('query MadeUp { a }', { 'x-api-key': 'made-up' });
    await run('query BadToken { a }', { authorization: 'Bearer msr_not-a-token' });
    await run('query Keyed { a }', { 'x-api-key': 'dash-a' });
    await run('query Supplier { b }', { authorization: `Bearer ${token}` });
    const ops = await stored();
    expect(ops.map((op) => [op.name, op.client]).sort()).toEqual([
      ['Keyed', `key:${digest('dash-a').slice(0, 24)}`],
      ['Supplier', 'registry:CSC'],
    ]);
  });

  it('keeps each client’s newest RECORDED_OPERATIONS_PER_CLIENT, so one client never evicts another', async () => {
    const { run, stored } = await setup(3);
    await run('query Kept { b }', { 'x-api-key': 'dash-b' });
    for (let i = 0; i < 10; i++) await run(`query Busy${i} { a }`, { 'x-api-key': 'dash-a' });
    const names = (await stored()).map((op) => op.name);
    expect(names.sort()).toEqual(['Busy7', 'Busy8', 'Busy9', 'Kept']);
  });

  it('counts a response-cache hit as a use: it refreshes the operation’s last-seen', async () => {
    const { recorder, run, stored } = await setup();
    const query = 'query Hot { a }';
    await run(query, { 'x-api-key': 'dash-a' });
    const first = (await stored()).find((op) => op.name === 'Hot')!;
    await new Promise((r) => setTimeout(r, 5));
    // The fast path passes no operation name: the document's own is used, as Apollo would.
    recorder.hit((name) => (name === 'x-api-key' ? 'dash-a' : undefined), null, query);
    const after = (await stored()).filter((op) => op.name === 'Hot');
    expect(after).toHaveLength(1);
    expect(after[0]!.lastSeen > first.lastSeen).toBe(true);
    // An anonymous hit records nothing.
    recorder.hit(() => undefined, null, 'query Cold { b }');
    expect((await stored()).map((op) => op.name)).toEqual(['Hot']);
  });

  it('records the application and version a client names, each version apart, and its subject only hashed', async () => {
    const { recorder, run, stored } = await setup(10);
    const dashboard = (version: string) => ({
      'x-api-key': 'dash-a',
      'apollographql-client-name': 'board-dashboard',
      'apollographql-client-version': version,
    });
    await run('query Matrix { a }', dashboard('2.0'));
    await run('query Matrix { a }', dashboard('2.1'));
    await run('query Matrix { a }', { 'x-api-key': 'dash-a', 'apollographql-client-name': 'bad name!' });
    recorder.hit((name) => dashboard('2.1')[name as keyof ReturnType<typeof dashboard>], null, 'query Matrix { a }', {
      ...ANONYMOUS,
      subject: 'alice@trust.nhs.uk',
    });
    const matrix = (await stored()).filter((op) => op.name === 'Matrix');
    expect(matrix.map((op) => `${op.clientName}@${op.clientVersion}`).sort()).toEqual([
      'board-dashboard@2.0',
      'board-dashboard@2.1',
      'undefined@undefined',
    ]);
    expect(matrix.find((op) => op.clientVersion === '2.1')).toMatchObject({ subject: subjectHash('alice@trust.nhs.uk') });
    expect(JSON.stringify(matrix)).not.toContain('alice');
  });
});
