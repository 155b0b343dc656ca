/**
 * Hospital networks are air-gapped: the supergraph sends traffic only to the addresses it is
 * configured with. Apollo Gateway, left to its defaults, probes four clouds' metadata services
 * (169.254.169.254, metadata.google.internal, …) and exports usage metrics to Apollo.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestStack } from './helpers.js';
import type { Stack } from '../scripts/stack.js';

const connected: string[] = [];
const connect = net.Socket.prototype.connect;
let stack: Stack;

beforeAll(async () => {
  // Every TCP connection this process opens from here on, by the host it names.
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net.connect() passes its normalised [options, callback] as one argument.
    const [first, second] = (Array.isArray(args[0]) ? args[0] : args) as [unknown, unknown];
    const options = typeof first === 'object' && first !== null ? (first as net.TcpNetConnectOpts) : { port: first, host: second };
    if (typeof options.host === 'string') connected.push(options.host);
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
  stack = await startTestStack();
});

afterAll(async () => {
  net.Socket.prototype.connect = connect;
  await stack?.close();
});

describe('an air-gapped network', () => {
  it('sees the gateway reach only its own subgraphs: no cloud metadata probes, no usage export to Apollo', async () => {
    const answer = await post(stack.gatewayUrl, '{ releases { code } }');
    expect(answer.errors).toBeUndefined();
    // The probes start as the gateway is built and give up within a few seconds.
    await new Promise((r) => setTimeout(r, 3000));
    const loopback = new Set(['127.0.0.1', 'localhost', '::1']);
    expect(connected.filter((host) => !loopback.has(host))).toEqual([]);
  });
});
