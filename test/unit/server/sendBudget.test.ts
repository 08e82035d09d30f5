import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServerOptions, type SubscriptionStore } from '../../../src/server/index.js';
import { loopbackOnly, type LoopbackOnly } from '../../support/loopbackOnly.js';
import { newReceiver } from '../../support/receiver.js';

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const DAY = 86_400_000;
let keys: { p256dh: string; auth: string };
let store: SubscriptionStore;
let net: LoopbackOnly;
let closers: (() => Promise<void>)[];
beforeEach(async () => {
  keys = (await newReceiver()).keys;
  store = memoryStore();
  net = loopbackOnly({});
  closers = [];
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(closers.map((close) => close()));
  expect(net.stopped).toEqual([]);
});

/** A host that accepts connections and never answers: what a dead or tar-pitted push service looks like. */
async function deadHost(): Promise<{ origin: string; connections: () => number }> {
  const sockets: Socket[] = [];
  const server: TcpServer = createTcpServer((socket) => {
    sockets.push(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => sockets.length };
}

/** A host answering `status()` to every push. */
async function answeringHost(status: () => number): Promise<{ origin: string; hits: () => number }> {
  let hits = 0;
  const server: Server = createHttpServer((request, response) => {
    hits++;
    request.resume();
    request.on('end', () => response.writeHead(status()).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

function pushServer(options: Partial<PushServerOptions> = {}) {
  return createPushServer({ vapid, store, allowLoopbackEndpoints: true, ...options });
}

async function subscribe(endpoint: string): Promise<string> {
  return (await store.saveSubscription({ subscription: { endpoint, expirationTime: null, keys } })).id;
}

describe('a failure budget per push-service host', () => {
  it('100 registrations of endpoints that never answer cost one timeout, not one each', async () => {
    const hosts = [await deadHost(), await deadHost()];
    const server = pushServer({ timeout: 1000, retries: 2, maxRetryDelay: 200 });
    // Registered as anyone could, through the handler.
    for (let i = 0; i < 100; i++) {
      const response = await server.handler(
        new Request('https://site.example/api/push/subscriptions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ subscription: { endpoint: `${hosts[i % 2]!.origin}/push/${i}`, expirationTime: null, keys } }),
        }),
      );
      expect(response.status).toBe(201);
    }
    const started = performance.now();
    const result = await server.send({ v: 1 });
    const elapsed = performance.now() - started;
    console.info(`100 dead endpoints on 2 hosts: send took ${Math.round(elapsed)} ms with a 1000 ms timeout`);
    expect(result).toMatchObject({ sent: 0, failed: 100 });
    const reasons = result.errors.map((error) => error.reason);
    expect(reasons.filter((reason) => reason === 'timeout').length + reasons.filter((reason) => reason === 'circuit-open').length).toBe(100);
    expect(reasons.filter((reason) => reason === 'circuit-open').length).toBeGreaterThanOrEqual(50);
    // The first wave (concurrency 50) timed out once; nothing was retried or sent after.
    expect(hosts[0]!.connections() + hosts[1]!.connections()).toBeLessThanOrEqual(50);
    // Before the budget: 2 waves x 3 attempts x 1 s, over 6 s. Now: one timeout, then one
    // for the check that the hosts answer at all (they never answered, so nothing else).
    expect(elapsed).toBeLessThan(3500);

    // While the circuit is open the hosts are skipped at once, without a connection.
    const connections = hosts[0]!.connections() + hosts[1]!.connections();
    const again = performance.now();
    const skipped = await server.send({ v: 1 });
    expect(skipped).toMatchObject({ sent: 0, failed: 100 });
    expect(new Set(skipped.errors.map((error) => error.reason))).toEqual(new Set(['circuit-open']));
    expect(performance.now() - again).toBeLessThan(1000);
    expect(hosts[0]!.connections() + hosts[1]!.connections()).toBe(connections);
  }, 20_000);

  it('opens after the given number of consecutive 5xx, waits for the cool-down once, and tries the host again after it', async () => {
    let status = 503;
    const host = await answeringHost(() => status);
    const server = pushServer({ concurrency: 1, retries: 0, circuitBreakerFailures: 3, circuitBreakerCoolDown: 300 });
    for (let i = 0; i < 5; i++) await subscribe(`${host.origin}/push/${i}`);
    const started = performance.now();
    const first = await server.send({ v: 1 });
    // Open after three; the send kept the other two for the cool-down, then one probe
    // failed again, which reopened the circuit: the last is skipped without a request.
    expect(first.errors.map((error) => error.reason)).toEqual(['HTTP 503', 'HTTP 503', 'HTTP 503', 'HTTP 503', 'circuit-open']);
    expect(host.hits()).toBe(4);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);

    // Reopened after its probe failed: no longer worth a wait, skipped at once.
    status = 201;
    const again = performance.now();
    expect((await server.send({ v: 1 })).errors.map((error) => error.reason)).toEqual(Array(5).fill('circuit-open'));
    expect(performance.now() - again).toBeLessThan(250);
    expect(host.hits()).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await server.send({ v: 1 })).toMatchObject({ sent: 5, failed: 0 });
    expect(host.hits()).toBe(9);
  });

  it('counts only failures of the host: a 4xx is the subscription’s, and a host on another port has its own budget', async () => {
    const refusing = await answeringHost(() => 400);
    const healthy = await answeringHost(() => 201);
    const server = pushServer({ concurrency: 1, retries: 0, circuitBreakerFailures: 2 });
    for (let i = 0; i < 5; i++) await subscribe(`${refusing.origin}/push/${i}`);
    for (let i = 0; i < 3; i++) await subscribe(`${healthy.origin}/push/${i}`);
    const result = await server.send({ v: 1 });
    expect(result).toMatchObject({ sent: 3, failed: 5 });
    expect(refusing.hits()).toBe(5);
    expect(result.errors.every((error) => error.status === 400)).toBe(true);
  });

  it('refuses bad budget options at creation', () => {
    expect(() => pushServer({ circuitBreakerFailures: 0 })).toThrow(expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'circuitBreakerFailures' }) }));
    expect(() => pushServer({ pruneFailingAfterDays: 1.5 })).toThrow(expect.objectContaining({ code: 'invalid-option' }));
    expect(() => pushServer({ pushServices: ['http://push.example.net'] })).toThrow(expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'pushServices' }) }));
    expect(() => pushServer({ idleTimeout: 0 })).toThrow(expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'idleTimeout' }) }));
    expect(() => pushServer({ ca: 'not a certificate' })).toThrow(expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'ca' }) }));
  });
});

describe('subscriptions that keep failing without ever being gone', () => {
  it('are remembered as failing from their first failure, and forgotten as failing at their next success', async () => {
    let status = 400;
    const host = await answeringHost(() => status);
    const server = pushServer({ retries: 0 });
    const id = await subscribe(`${host.origin}/push`);
    const before = Date.now();
    expect(await server.send({ v: 1 })).toMatchObject({ failed: 1, pruned: 0 });
    const since = (await store.getSubscription(id))!.failingSince!;
    expect(since).toBeGreaterThanOrEqual(before);
    await server.send({ v: 1 });
    expect((await store.getSubscription(id))!.failingSince).toBe(since);
    status = 201;
    expect(await server.send({ v: 1 })).toMatchObject({ sent: 1 });
    expect((await store.getSubscription(id))!.failingSince).toBeUndefined();
  });

  it('are pruned once failing for longer than pruneFailingAfterDays (default 7), and counted', async () => {
    const host = await answeringHost(() => 400);
    const server = pushServer({ retries: 0 });
    const old = await subscribe(`${host.origin}/push/old`);
    const recent = await subscribe(`${host.origin}/push/recent`);
    await store.markDelivery(old, true, Date.now() - 8 * DAY);
    await store.markDelivery(recent, true, Date.now() - 6 * DAY);
    const result = await server.send({ v: 1 });
    expect(result).toMatchObject({ sent: 0, failed: 2, gone: 0, pruned: 1 });
    expect(await store.getSubscription(old)).toBeUndefined();
    expect(await store.getSubscription(recent)).toBeDefined();

    const strict = pushServer({ retries: 0, pruneFailingAfterDays: 5 });
    expect(await strict.send({ v: 1 })).toMatchObject({ pruned: 1 });
    expect(await store.getSubscription(recent)).toBeUndefined();
  });

  it('prunes a stored endpoint the policy now refuses, once it has failed long enough, without contacting it', async () => {
    const server = pushServer({ allowLoopbackEndpoints: false });
    const id = await subscribe('https://10.0.0.1/push');
    expect((await server.send({ v: 1 })).errors).toMatchObject([{ reason: 'endpoint-refused: private-address' }]);
    expect((await store.getSubscription(id))!.failingSince).toBeDefined();
    await store.markDelivery(id, false, Date.now());
    await store.markDelivery(id, true, Date.now() - 8 * DAY);
    expect(await server.send({ v: 1 })).toMatchObject({ failed: 1, pruned: 1 });
    expect(await store.getSubscription(id)).toBeUndefined();
  });

  it('writes nothing to the store for a push that succeeds on a subscription that was not failing', async () => {
    const host = await answeringHost(() => 201);
    const server = pushServer();
    for (let i = 0; i < 3; i++) await subscribe(`${host.origin}/push/${i}`);
    const marks = vi.spyOn(store, 'markDelivery');
    expect(await server.send({ v: 1 })).toMatchObject({ sent: 3 });
    expect(marks).not.toHaveBeenCalled();
  });
});
