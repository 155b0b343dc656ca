/**
 * Which routing URLs a publish may name. A published URL is fetched by the gateway (the
 * publish checks it, then every query is routed there), so without a policy it is a probe
 * into the gateway's own network. The operator lists the hosts suppliers may use
 * (`REGISTRY_ALLOWED_HOSTS`): names, `*.domain` suffixes, IP addresses and CIDR ranges.
 *
 * A URL is read with WHATWG `new URL()`, which already turns every numeric spelling of an
 * IPv4 address (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`) into dotted form; an
 * IPv4-mapped IPv6 address (`[::ffff:127.0.0.1]`) is matched as the IPv4 address it is. Only
 * `http:` and `https:` are allowed, never with user info. The URL that passes is the
 * normalised one: what is checked is what is routed.
 */
import { BlockList, isIP } from 'node:net';

/** The hosts a published URL may name, parsed from the setting. */
export interface HostPolicy {
  /** The setting as written, for the log. */
  readonly text: string;
  readonly names: ReadonlySet<string>;
  /** `*.example.org` as `.example.org`: any name ending so (not `example.org` itself). */
  readonly suffixes: readonly string[];
  readonly addresses: BlockList;
}

/** What the check says of a URL; `reason` is for the operator's log only. */
export type UrlVerdict = { readonly ok: true; readonly url: string } | { readonly ok: false; readonly reason: string };

/**
 * The one reason a client is given for any refused URL, whatever the cause (host not
 * allowed, nothing listening, a 404, something that is not a subgraph): different reasons
 * would tell a caller what answers where in the gateway's network.
 */
export const URL_REFUSED_MESSAGE = 'The URL is not allowed or does not serve a federation subgraph';

/** The default: the machine itself, as the README's walkthrough publishes (`http://127.0.0.1:4010/graphql`). */
export const DEFAULT_ALLOWED_HOSTS = 'localhost,127.0.0.1,::1';

/** `[::ffff:7f00:1]` -> `127.0.0.1`; other IPv6 without brackets; names lower-case, without a trailing dot. */
function canonicalHost(hostname: string): string {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(bare);
  if (mapped) {
    const high = Number.parseInt(mapped[1]!, 16);
    const low = Number.parseInt(mapped[2]!, 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  return bare.replace(/\.$/, '').toLowerCase();
}

/** A host as a URL would name it, normalised the same way; throws when it is not a host. */
function hostOf(entry: string): string {
  const url = new URL(`http://${isIP(entry) === 6 ? `[${entry}]` : entry}/`);
  if (url.username || url.password || url.port || url.pathname !== '/' || url.search || url.hash) throw new TypeError('not a host');
  return canonicalHost(url.hostname);
}

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/**
 * Parses a comma-separated host list: `supplier.example.org`, `*.suppliers.example.org`,
 * `10.1.2.3`, `10.20.0.0/16`, `fd00::/8`. Throws a `TypeError` naming the entry it cannot read.
 */
export function parseAllowedHosts(text: string): HostPolicy {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const addresses = new BlockList();
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new TypeError('lists no host: give at least one, e.g. 127.0.0.1');
  for (const entry of entries) {
    const bad = (why: string) => new TypeError(`entry "${entry}" ${why}`);
    if (entry.includes('/')) {
      const [address = '', bits = '', ...rest] = entry.split('/');
      const max = isIP(address) === 6 ? 128 : 32;
      if (rest.length > 0 || isIP(address) === 0 || !/^\d+$/.test(bits) || Number(bits) > max)
        throw bad(`is not a CIDR range (e.g. 10.20.0.0/16, fd00::/8)`);
      addresses.addSubnet(address, Number(bits), family(address));
      continue;
    }
    const wildcard = entry.startsWith('*.');
    let host: string;
    try {
      host = hostOf(wildcard ? entry.slice(2) : entry);
    } catch {
      throw bad('is not a host name, IP address, *.domain or CIDR range');
    }
    if (wildcard) {
      if (isIP(host) !== 0) throw bad('puts *. in front of an IP address; use a CIDR range');
      suffixes.push(`.${host}`);
    } else if (isIP(host) !== 0) addresses.addAddress(host, family(host));
    else names.add(host);
  }
  return { text, names, suffixes, addresses };
}

/** Whether `raw` is an http(s) URL, without user info, to a host `policy` allows; the URL normalised. */
export function checkUrl(raw: string, policy: HostPolicy): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `scheme ${url.protocol} is not http(s)` };
  if (url.username || url.password) return { ok: false, reason: 'the URL carries user info' };
  const host = canonicalHost(url.hostname);
  const ip = isIP(host);
  const allowed =
    ip !== 0 ? policy.addresses.check(host, family(host)) : policy.names.has(host) || policy.suffixes.some((s) => host.endsWith(s));
  if (!allowed) return { ok: false, reason: `host ${host} is not in REGISTRY_ALLOWED_HOSTS (${policy.text})` };
  return { ok: true, url: url.href };
}
