import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from './caller.js';
import { subjectHash } from './client-awareness.js';
import { createLogger, lineLogger, requestIdOf, requestLogging, scrub } from './logger.js';

describe('scrub', () => {
  it('masks bearer tokens, URL passwords and key=value secrets in free text', () => {
    expect(scrub('auth Bearer abc.def-123 failed')).toBe('auth Bearer [REDACTED] failed');
    expect(scrub('Redis redis://app:hunter2@redis:6379 unreachable')).toBe('Redis redis://app:[REDACTED]@redis:6379 unreachable');
    expect(scrub('token=xyz&api_key: "k1"')).toBe('token=[REDACTED]&api_key: "[REDACTED]"');
  });
});

describe('createLogger', () => {
  it('writes JSON, redacting authorization headers and tokens', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger('info', sink);
    logger.info({ req: { headers: { authorization: 'Bearer secret1' } }, token: 'secret2' }, 'hello');
    lineLogger(logger)('gateway: calling redis://u:secret3@host');
    const text = lines.join('');
    expect(text).not.toMatch(/secret1|secret2|secret3/);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ msg: 'hello', service: 'gateway', token: '[REDACTED]' });
  });
});

describe('requestIdOf', () => {
  it('keeps a sane client id and replaces anything else with a UUID', () => {
    expect(requestIdOf('abc-123')).toBe('abc-123');
    expect(requestIdOf('has space')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf('x'.repeat(200))).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('requestLogging', () => {
  it("logs a registration and a failed poll, but not the subgraphs' and insights' polls that succeed", async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
    const app = express();
    app.use(requestLogging(createLogger('info', sink)));
    app.all('/registry/clusters{/:id}', (_req, res) => void res.json({}));
    let registryUp = true;
    app.get('/registry/subgraphs', (_req, res) => void res.status(registryUp ? 200 : 503).json({}));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await fetch(`${base}/registry/clusters`);
    await fetch(`${base}/registry/clusters/NORTHEAST`, { method: 'POST' });
    await fetch(`${base}/registry/subgraphs?sdl=true`);
    registryUp = false;
    await fetch(`${base}/registry/subgraphs?sdl=true`);
    await fetch(`${base}/registry/subgraphs`);
    server.close();
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ method: 'POST', path: '/registry/clusters/NORTHEAST' }),
      expect.objectContaining({ method: 'GET', path: '/registry/subgraphs', status: 503 }),
      expect.objectContaining({ method: 'GET', path: '/registry/subgraphs', status: 503 }),
    ]);
  });

  it('below info (LOG_LEVEL=warn) still gives each request its id, and hangs nothing on its end', async () => {
    const finishListeners: Record<string, number> = {};
    const app = express();
    for (const level of ['info', 'warn'] as const)
      app.use(`/${level}`, requestLogging(createLogger(level, new Writable({ write: (_c, _e, done) => done() }))), (_req, res) => {
        finishListeners[level] = res.listenerCount('finish');
        res.json({ id: res.locals['requestId'] });
      });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const warn = await fetch(`${base}/warn`, { headers: { 'x-request-id': 'quiet-1' } });
    await fetch(`${base}/info`);
    server.close();
    expect(warn.headers.get('x-request-id')).toBe('quiet-1');
    expect(finishListeners['warn']! + 1).toBe(finishListeners['info']);
  });

  it('names the client and version the request gives, and its subject only hashed', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
    const app = express();
    app.use(requestLogging(createLogger('info', sink)));
    app.post('/graphql', (_req, res) => {
      res.locals['caller'] = { ...ANONYMOUS, subject: 'alice@trust.nhs.uk' };
      res.json({});
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'apollographql-client-name': 'board-dashboard', 'apollographql-client-version': '2.1' },
    });
    await fetch(`${base}/graphql`, { method: 'POST', headers: { 'apollographql-client-name': 'bad name!' } });
    server.close();
    const [named, unnamed] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(named).toMatchObject({ client: 'board-dashboard', clientVersion: '2.1', subject: subjectHash('alice@trust.nhs.uk') });
    expect(unnamed).toMatchObject({ client: null, clientVersion: null });
    expect(lines.join('')).not.toContain('alice');
  });
});
