import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { addressKey, clientKey } from './rate-limit.js';

const from = (ip: string) => ({ headers: {}, ip, socket: {} }) as unknown as Request;

describe('the client key a request is counted under', () => {
  it('counts an IPv6 client by its /64, however the address is written', () => {
    const keys = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:1', '2001:db8:1:2::1%eth0'].map((ip) =>
      clientKey(from(ip)),
    );
    expect(new Set(keys)).toEqual(new Set(['ip:2001:db8:1:2::/64']));
    expect(clientKey(from('2001:db8:1:3::1'))).not.toBe(keys[0]);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('counts an IPv4 client by its address, mapped into IPv6 or not', () => {
    expect(clientKey(from('::ffff:10.0.0.1'))).toBe('ip:10.0.0.1');
    expect(clientKey(from('10.0.0.1'))).toBe('ip:10.0.0.1');
    expect(clientKey(from('10.0.0.2'))).not.toBe('ip:10.0.0.1');
  });
});
