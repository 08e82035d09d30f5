import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type SubscriptionStore } from '../../../src/server/index.js';
import { loopbackOnly } from '../../support/loopbackOnly.js';
import { newReceiver } from '../../support/receiver.js';

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let keys: { p256dh: string; auth: string };
let store: SubscriptionStore;
beforeEach(async () => {
  keys = (await newReceiver()).keys;
  store = memoryStore();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * What a name may resolve to when a send connects, where registration only saw the
 * name (DNS rebinding): every address a push must never reach, in the forms resolvers
 * and attackers give them.
 */
const rebound: [address: string | string[], kind: string][] = [
  ['127.0.0.1', 'loopback'],
  ['127.1.2.3', 'loopback'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::127.0.0.1', 'loopback'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['2002:7f00:1::1', 'loopback'],
  ['0.0.0.0', 'unspecified'],
  ['::', 'unspecified'],
  ['10.0.0.1', 'private'],
  ['10.255.255.254', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.1', 'private'],
  ['192.168.0.1', 'private'],
  ['100.64.0.1', 'private'],
  ['100.127.255.254', 'private'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:192.168.1.1', 'private'],
  ['fec0::1', 'private'],
  ['169.254.169.254', 'link-local'],
  ['::ffff:169.254.169.254', 'link-local'],
  ['fe80::1', 'link-local'],
  ['febf::1', 'link-local'],
  ['fd00::1', 'unique-local'],
  ['fc00::1', 'unique-local'],
  ['fd12:3456:789a::1', 'unique-local'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['ff02::1', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved'],
  ['::8.8.8.8', 'reserved'],
  [['93.184.215.14', '10.0.0.1'], 'private'], // one bad address fails the name: no race to it
  [['2606:2800:21f:cb07::1', '::1'], 'loopback'],
];

describe('send() checks the address it connects to', () => {
  it.each(rebound)('refuses a push service name that resolves to %j (%s), connecting to nothing', async (addresses, kind) => {
    const net = loopbackOnly({ 'push.rebind.example': ([] as string[]).concat(addresses) });
    const server = createPushServer({ vapid, store, pushServices: 'any', retries: 2, maxRetryDelay: 10 });
    const { id } = await store.saveSubscription({ subscription: { endpoint: 'https://push.rebind.example/wpush/v2/x', expirationTime: null, keys } });
    const result = await server.send({ v: 1 });
    expect(result).toMatchObject({ sent: 0, failed: 1, errors: [{ subscriptionId: id, reason: `address-refused: ${kind}` }] });
    expect(result.errors[0]!.status).toBeUndefined();
    // Refused before a socket was opened, and not retried: the name was looked up once.
    expect(net.stopped).toEqual([]);
    expect(net.resolved).toEqual(['push.rebind.example']);
  });

  it('refuses the same names for a site that lists its own push service', async () => {
    const net = loopbackOnly({ 'eu.push.example.net': ['169.254.169.254'] });
    const server = createPushServer({ vapid, store, pushServices: ['*.push.example.net'] });
    await store.saveSubscription({ subscription: { endpoint: 'https://eu.push.example.net/x', expirationTime: null, keys } });
    const result = await server.send({ v: 1 });
    expect(result.errors).toMatchObject([{ reason: 'address-refused: link-local' }]);
    expect(net.stopped).toEqual([]);
  });

  it('refuses a rebound name even with loopback allowed, unless it is loopback', async () => {
    const net = loopbackOnly({ 'push.rebind.example': ['10.1.2.3'] });
    const server = createPushServer({ vapid, store, pushServices: 'any', allowLoopbackEndpoints: true });
    await store.saveSubscription({ subscription: { endpoint: 'https://push.rebind.example/x', expirationTime: null, keys } });
    expect((await server.send({ v: 1 })).errors).toMatchObject([{ reason: 'address-refused: private' }]);
    expect(net.stopped).toEqual([]);
  });

  describe('with a local push service', () => {
    let local: Server;
    let port: number;
    let hits: number;
    beforeEach(async () => {
      hits = 0;
      local = createServer((request, response) => {
        hits++;
        request.resume();
        response.writeHead(201).end();
      });
      await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
      port = (local.address() as AddressInfo).port;
    });
    afterEach(async () => {
      local.closeAllConnections();
      await new Promise((resolve) => local.close(resolve));
    });

    it('connects to a loopback name when loopback is allowed, through the same check', async () => {
      const net = loopbackOnly({ localhost: ['127.0.0.1'] });
      const server = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
      await store.saveSubscription({ subscription: { endpoint: `http://localhost:${port}/push`, expirationTime: null, keys } });
      expect(await server.send({ v: 1 })).toMatchObject({ sent: 1, failed: 0 });
      expect(hits).toBe(1);
      expect(net.resolved).toEqual(['localhost']);
      expect(net.stopped).toEqual([]);
    });

    it('never contacts a stored endpoint the policy refuses now, and says why', async () => {
      const net = loopbackOnly({});
      const server = createPushServer({ vapid, store });
      const rows = [
        [`http://127.0.0.1:${port}/push`, 'loopback'],
        [`https://[::ffff:127.0.0.1]:${port}/push`, 'loopback'],
        ['https://169.254.169.254/latest/meta-data/', 'link-local-address'],
        ['https://10.0.0.1/push', 'private-address'],
        ['https://push.example.net/push', 'not-push-service'],
        ['https://fcm.googleapis.com:8443/push', 'not-push-service'],
      ];
      for (const [endpoint] of rows) await store.saveSubscription({ subscription: { endpoint: endpoint!, expirationTime: null, keys } });
      const result = await server.send({ v: 1 });
      expect(result).toMatchObject({ sent: 0, failed: rows.length });
      expect(result.errors.map((error) => [error.endpoint, error.reason]).sort()).toEqual(
        rows.map(([endpoint, why]) => [endpoint, `endpoint-refused: ${why}`]).sort(),
      );
      expect(hits).toBe(0);
      expect(net.resolved).toEqual([]);
      expect(net.stopped).toEqual([]);
    });
  });
});
