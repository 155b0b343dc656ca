import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from './caller.js';
import { ClientLabels, clientOf, subjectHash, withClient } from './client-awareness.js';

const from = (h: Record<string, string>) => (name: string) => h[name];

describe('client awareness', () => {
  it('reads the client name and version, bounded to safe characters', () => {
    expect(clientOf(from({ 'apollographql-client-name': 'board-dashboard', 'apollographql-client-version': '2.1' }))).toEqual({
      name: 'board-dashboard',
      version: '2.1',
    });
    expect(clientOf(from({ 'apollographql-client-name': 'x'.repeat(65) }))).toEqual({ name: null, version: null });
    expect(clientOf(from({ 'apollographql-client-name': 'a b<script>' })).name).toBeNull();
    // A version alone says nothing.
    expect(clientOf(from({ 'apollographql-client-version': '2.1' }))).toEqual({ name: null, version: null });
    expect(withClient(ANONYMOUS, from({ 'apollographql-client-name': 'explorer' }))).toMatchObject({
      clientName: 'explorer',
      clientVersion: null,
      subject: null,
    });
  });

  it('hashes a subject, never keeping it', () => {
    const hash = subjectHash('alice@trust.nhs.uk')!;
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(hash).toBe(subjectHash('alice@trust.nhs.uk'));
    expect(hash).not.toBe(subjectHash('bob@trust.nhs.uk'));
    expect(subjectHash(null)).toBeNull();
  });

  it('keeps the metrics label set bounded: the first names seen (or the configured ones), a few versions each, else other', () => {
    const labels = new ClientLabels([], 2, 2);
    expect(labels.of({ name: 'a', version: '1' })).toEqual({ client: 'a', client_version: '1' });
    expect(labels.of({ name: 'b', version: null })).toEqual({ client: 'b', client_version: 'none' });
    expect(labels.of({ name: 'c', version: '1' })).toEqual({ client: 'other', client_version: 'other' });
    expect(labels.of({ name: 'a', version: '2' })).toEqual({ client: 'a', client_version: '2' });
    expect(labels.of({ name: 'a', version: '3' })).toEqual({ client: 'a', client_version: 'other' });
    expect(labels.of({ name: null, version: null })).toEqual({ client: 'none', client_version: 'none' });
    const configured = new ClientLabels(['board-dashboard']);
    expect(configured.of({ name: 'board-dashboard', version: '2.1' }).client).toBe('board-dashboard');
    expect(configured.of({ name: 'made-up', version: '1' }).client).toBe('other');
    const flood = new ClientLabels([]);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const l = flood.of({ name: `n${i % 500}`, version: `v${i}` });
      seen.add(`${l.client}/${l.client_version}`);
    }
    expect(seen.size).toBeLessThanOrEqual((20 + 1) * (5 + 1));
  });
});
