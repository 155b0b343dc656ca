import { describe, expect, it } from 'vitest';
import { checkUrl, DEFAULT_ALLOWED_HOSTS, parseAllowedHosts } from './url-policy.js';

const loopback = parseAllowedHosts(DEFAULT_ALLOWED_HOSTS);
const suppliers = parseAllowedHosts('nme.suppliers.example, *.cluster.example, 10.20.0.0/16, 192.0.2.7, fd00::/8');

describe('the publish URL policy', () => {
  it.each([
    ['http://2130706433:4010/graphql', 'decimal'],
    ['http://0x7f000001:4010/graphql', 'hexadecimal'],
    ['http://0177.0.0.1:4010/graphql', 'octal'],
    ['http://127.1:4010/graphql', 'short'],
    ['http://0x7f.0.0.1:4010/graphql', 'mixed'],
    ['http://[::ffff:127.0.0.1]:4010/graphql', 'IPv4-mapped IPv6'],
    ['http://[::ffff:7f00:1]:4010/graphql', 'IPv4-mapped IPv6, hex'],
  ])('reads %s (%s) as 127.0.0.1: refused unless 127.0.0.1 is allowed', (url) => {
    expect(checkUrl(url, suppliers)).toEqual({ ok: false, reason: expect.stringContaining('host 127.0.0.1 is not in') });
    const allowed = checkUrl(url, loopback);
    expect(allowed.ok).toBe(true);
    // What passes is the normalised URL, the one routed to (a mapped address keeps its IPv6 form).
    if (allowed.ok && !url.includes('[')) expect(allowed.url).toBe('http://127.0.0.1:4010/graphql');
  });

  it('allows what the default names: the machine itself, as the README publishes', () => {
    expect(checkUrl('http://127.0.0.1:4010/graphql', loopback)).toEqual({ ok: true, url: 'http://127.0.0.1:4010/graphql' });
    expect(checkUrl('http://LOCALHOST.:4010/graphql', loopback).ok).toBe(true);
    expect(checkUrl('http://[::1]:4010/graphql', loopback).ok).toBe(true);
    expect(checkUrl('http://127.0.0.2:4010/graphql', loopback).ok).toBe(false);
    expect(checkUrl('http://10.1.2.3:6379/graphql', loopback).ok).toBe(false);
  });

  it('matches names exactly, *.domain below the domain only, addresses and CIDR ranges', () => {
    const ok = (url: string) => checkUrl(url, suppliers).ok;
    expect(ok('https://nme.suppliers.example/graphql')).toBe(true);
    expect(ok('https://NME.Suppliers.Example./graphql')).toBe(true);
    expect(ok('https://other.suppliers.example/graphql')).toBe(false);
    expect(ok('http://south.cluster.example:4002/graphql')).toBe(true);
    expect(ok('http://a.b.cluster.example/graphql')).toBe(true);
    expect(ok('http://cluster.example/graphql')).toBe(false);
    expect(ok('http://evilcluster.example/graphql')).toBe(false);
    expect(ok('http://10.20.3.4:4010/graphql')).toBe(true);
    expect(ok('http://169090564:4010/graphql')).toBe(true); // 10.20.3.4 in decimal
    expect(ok('http://10.21.0.1/graphql')).toBe(false);
    expect(ok('http://192.0.2.7/graphql')).toBe(true);
    expect(ok('http://192.0.2.8/graphql')).toBe(false);
    expect(ok('http://[fd12::1]/graphql')).toBe(true);
    expect(ok('http://[fe80::1]/graphql')).toBe(false);
  });

  it('refuses user info and schemes other than http(s)', () => {
    expect(checkUrl('http://user:pw@127.0.0.1:4010/graphql', loopback)).toEqual({ ok: false, reason: 'the URL carries user info' });
    expect(checkUrl('http://127.0.0.1%2f@10.1.2.3/graphql', loopback).ok).toBe(false);
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/graphql', 'gopher://127.0.0.1:6379/_INFO', 'not a url'])
      expect(checkUrl(url, loopback).ok).toBe(false);
  });

  it('refuses a setting it cannot read, naming the entry', () => {
    expect(() => parseAllowedHosts('')).toThrow('lists no host');
    expect(() => parseAllowedHosts('10.0.0.0/33')).toThrow('entry "10.0.0.0/33" is not a CIDR range');
    expect(() => parseAllowedHosts('host:8080')).toThrow('entry "host:8080" is not a host name');
    expect(() => parseAllowedHosts('*.10.0.0.1')).toThrow('use a CIDR range');
    expect(() => parseAllowedHosts('http://x/')).toThrow('entry "http://x/"');
  });
});
