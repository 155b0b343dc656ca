import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { originAllowed } from './transport-ws.js';

const upgrade = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('originAllowed', () => {
  it('lets clients that are not browsers (no Origin) and the gateway’s own pages connect', () => {
    expect(originAllowed(upgrade({ host: 'gw:4000' }), [])).toBe(true);
    expect(originAllowed(upgrade({ host: 'gw:4000', origin: 'http://gw:4000' }), [])).toBe(true);
  });

  it('refuses a page of another origin unless CORS_ORIGINS names it', () => {
    expect(originAllowed(upgrade({ host: 'gw:4000', origin: 'https://evil.example' }), [])).toBe(false);
    expect(originAllowed(upgrade({ host: 'gw:4000', origin: 'https://dash.example' }), ['https://dash.example'])).toBe(true);
    expect(originAllowed(upgrade({ host: 'gw:4000', origin: 'null' }), [])).toBe(false);
  });
});
