import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServerOptions, type SubscriptionStore } from '../../../src/server/index.js';
import { loopbackOnly, type LoopbackOnly } from '../../support/loopbackOnly.js';
import { newReceiver } from '../../support/receiver.js';

// Issue 17, row 12: the breaker's decisions must not fail healthy subscriptions wholesale,
// must finish the send once the cool-down ends, and must count 429s.

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
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

/** A push service on loopback; `answer` decides (it may leave a request hanging). Records when each push came. */
async function host(answer: (request: IncomingMessage, response: ServerResponse, at: number) => void) {
  const hits: { path: string; at: number }[] = [];
  let first = 0;
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const now = performance.now();
      first ||= now;
      hits.push({ path: request.url!, at: now - first });
      answer(request, response, now - first);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

async function subscribe(endpoints: string[]): Promise<void> {
  for (const endpoint of endpoints) await store.saveSubscription({ subscription: { endpoint, expirationTime: null, keys } });
}

function pushServer(options: Partial<PushServerOptions>) {
  return createPushServer({ vapid, store, allowLoopbackEndpoints: true, ...options });
}

const range = (count: number) => Array.from({ length: count }, (_, i) => i);

describe('the circuit breaker (issue 17, row 12)', () => {
  it('with half the endpoints of a host hanging, fails those and delivers every healthy one', async () => {
    const service = await host((request, response) => (request.url!.startsWith('/hang/') ? undefined : response.writeHead(201).end()));
    await subscribe(range(100).map((i) => `${service.origin}/${i % 2 ? 'hang' : 'ok'}/${i}`));
    const started = performance.now();
    const result = await pushServer({ concurrency: 20, timeout: 400, retries: 1, maxRetryDelay: 20, circuitBreakerFailures: 10 }).send({ v: 1 });
    // Before: the hanging half opened the circuit and 99.9% of the healthy half failed with it.
    expect(result).toMatchObject({ sent: 50, failed: 50 });
    expect(new Set(result.errors.map((error) => error.reason))).toEqual(new Set(['timeout']));
    expect(result.errors.every((error) => error.endpoint.includes('/hang/'))).toBe(true);
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it('waits for a push service’s cool-down once and delivers the rest after it, within the same send', async () => {
    // Down (503) for the first 600 ms, then well again.
    const service = await host((_request, response, at) => response.writeHead(at < 600 ? 503 : 201).end());
    await subscribe(range(40).map((i) => `${service.origin}/push/${i}`));
    const started = performance.now();
    const result = await pushServer({ concurrency: 10, retries: 1, maxRetryDelay: 50, circuitBreakerFailures: 5, circuitBreakerCoolDown: 700 }).send({ v: 1 });
    const elapsed = performance.now() - started;
    // Before: the send ended inside the cool-down, every skipped subscription failed.
    expect(result).toMatchObject({ sent: 40, failed: 0 });
    expect(elapsed).toBeGreaterThanOrEqual(650);
    // Skipped subscriptions were not knocking meanwhile: nothing between the opening and the cool-down's end.
    const opened = service.hits.findIndex((hit, i) => i >= 4 && service.hits.slice(i - 4, i + 1).every((h) => h.at < 600));
    const quiet = service.hits.filter((hit) => hit.at > service.hits[opened]!.at + 50 && hit.at < service.hits[opened]!.at + 650);
    expect(quiet).toEqual([]);
  });

  it('pauses a host for its Retry-After on a 429, instead of every push knocking again, then delivers all', async () => {
    const service = await host((_request, response, at) => (at < 1000 ? response.writeHead(429, { 'retry-after': '1' }).end() : response.writeHead(201).end()));
    await subscribe(range(30).map((i) => `${service.origin}/push/${i}`));
    const result = await pushServer({ concurrency: 10, retries: 2, maxRetryDelay: 2000 }).send({ v: 1 });
    expect(result).toMatchObject({ sent: 30, failed: 0 });
    // The first burst (the probe, then what was in flight) got 429; then quiet for the second asked.
    const throttled = service.hits.filter((hit) => hit.at < 1000);
    expect(throttled.length).toBeLessThanOrEqual(10);
    expect(service.hits.length).toBeLessThanOrEqual(30 + throttled.length);
  });

  it('counts 429s: a host that keeps answering 429 is skipped after a few pauses, not tried three times per subscription', async () => {
    const service = await host((_request, response) => response.writeHead(429, { 'retry-after': '0' }).end());
    await subscribe(range(40).map((i) => `${service.origin}/push/${i}`));
    const started = performance.now();
    const result = await pushServer({ concurrency: 10, retries: 2, maxRetryDelay: 50, circuitBreakerFailures: 5, circuitBreakerCoolDown: 300 }).send({ v: 1 });
    expect(result).toMatchObject({ sent: 0, failed: 40 });
    expect(new Set(result.errors.map((error) => error.reason))).toEqual(new Set(['HTTP 429', 'circuit-open']));
    // Before: 120 requests (every subscription, three times).
    expect(service.hits.length).toBeLessThan(20);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
