import { createECDH } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServer, type SubscriptionStore } from '../../../src/server/index.js';
import { eventsKey, signEvents } from '../../../src/server/crypto/eventsSignature.js';
import { toBase64Url } from '../../../src/shared/base64url.js';
import { metricsOption } from '../../../src/server/metrics/metricsOption.js';
import type { QueueDepth } from '../../../src/server/metrics/createMetricsSource.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { parseMetrics } from '../../support/metricsText.js';
import { protocols, startPushHost } from '../../support/pushHost.js';

// Prometheus metrics of a push server, read as Prometheus reads them: the text format of
// push.metrics.metrics(), after real sends to the local push service (or a push-service
// stand-in that fails) and real requests through the handler.
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const base = 'https://site.example/api/push';
/** What pushServiceGroup makes of 127.0.0.1, the host of every local push service. */
const LOCAL = '127.0.0.0/24';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function scrape(push: PushServer) {
  return parseMetrics(await push.metrics!.metrics());
}

describe.each(protocols)('a scrape after a real send over %s', (protocol) => {
  it('counts each push by outcome and push service, times each answer over the protocol it took, and counts the send', async () => {
    const service = await startPushService(protocol === 'HTTP/2' ? { tls: true } : {});
    cleanups.push(() => service.close());
    const store = memoryStore();
    const push = createPushServer({ vapid, store, metrics: true, allowLoopbackEndpoints: true, retries: 0, ...(service.ca ? { ca: service.ca } : {}) });
    const live = await Promise.all([1, 2, 3].map(() => service.subscribe(vapid.publicKey)));
    const expired = await service.subscribe(vapid.publicKey);
    service.expire(expired.endpoint);
    for (const subscription of [...live, expired]) await store.saveSubscription({ subscription });
    // Stored before the push services were narrowed: refused at send, no push service named.
    await store.saveSubscription({ subscription: { endpoint: 'https://push.elsewhere.example/p/1', expirationTime: null, keys: keys() } });

    const result = await push.send({ v: 1, id: 'm1', notification: { title: 'Hello' } });
    expect(result).toMatchObject({ sent: 3, gone: 1, failed: 1 });

    const metrics = await scrape(push);
    expect(metrics.types.get('tidings_pushes_total')).toBe('counter');
    expect(metrics.value('tidings_pushes_total', { push_service: LOCAL, outcome: 'sent' })).toBe(3);
    expect(metrics.value('tidings_pushes_total', { push_service: LOCAL, outcome: 'gone' })).toBe(1);
    expect(metrics.value('tidings_pushes_total', { push_service: LOCAL, outcome: 'failed' })).toBe(0);
    expect(metrics.value('tidings_pushes_total', { push_service: 'none', outcome: 'failed' })).toBe(1);
    expect(metrics.all('tidings_push_failures_total')).toEqual([{ name: 'tidings_push_failures_total', labels: { push_service: 'none', cause: 'endpoint-refused' }, value: 1 }]);

    // Four answers (three 201s, one 410), each in one bucket, cumulative up to +Inf.
    const wire = protocol === 'HTTP/2' ? 'h2' : 'http/1.1';
    const labels = { push_service: LOCAL, protocol: wire };
    expect(metrics.types.get('tidings_push_request_duration_seconds')).toBe('histogram');
    expect(metrics.value('tidings_push_request_duration_seconds_count', labels)).toBe(4);
    expect(metrics.value('tidings_push_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(4);
    const buckets = metrics.all('tidings_push_request_duration_seconds_bucket').map((sample) => sample.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(metrics.value('tidings_push_request_duration_seconds_sum', labels)).toBeGreaterThan(0);
    expect(metrics.value('tidings_push_request_duration_seconds_bucket', { ...labels, le: '10' })).toBe(4);

    expect(metrics.value('tidings_sends_created_total', { state: 'running' })).toBe(1);
    expect(metrics.value('tidings_sends_finished_total', { state: 'done' })).toBe(1);
    expect(metrics.value('tidings_sends_running')).toBe(0);
    expect(metrics.value('tidings_circuit_breaker_hosts', { push_service: LOCAL, state: 'closed' })).toBe(1);
    expect(metrics.value('tidings_circuit_breaker_hosts', { push_service: LOCAL, state: 'open' })).toBe(0);

    // Counters only grow: a second send adds to them.
    await push.send({ v: 1, id: 'm2', data: 1 });
    const again = await scrape(push);
    expect(again.value('tidings_pushes_total', { push_service: LOCAL, outcome: 'sent' })).toBe(6);
    expect(again.value('tidings_pushes_total', { push_service: LOCAL, outcome: 'gone' })).toBe(1);
    expect(again.value('tidings_sends_finished_total', { state: 'done' })).toBe(2);
  });
});

describe('the circuit-breaker gauges', () => {
  it('follow a host whose circuit opened, then half-opened after its cool-down, then closed on an answer', async () => {
    let status = 500;
    const host = await startPushHost('HTTP/1.1', (_request, response) => {
      response.writeHead(status).end();
    });
    cleanups.push(() => host.close());
    const store = memoryStore();
    const push = createPushServer({ vapid, store, metrics: true, allowLoopbackEndpoints: true, retries: 0, circuitBreakerFailures: 2, circuitBreakerCoolDown: 3000 });
    for (const n of [1, 2]) await store.saveSubscription({ subscription: { endpoint: `${host.origin}/push/${n}`, expirationTime: null, keys: keys() } });
    const hosts = async (state: string) => (await scrape(push)).value('tidings_circuit_breaker_hosts', { push_service: LOCAL, state });

    expect(await hosts('closed')).toBeUndefined();
    expect(await push.send({ v: 1, data: 'down' })).toMatchObject({ sent: 0, failed: 2 });
    // Two 500s in a row: the host's circuit is open for the cool-down.
    expect(await hosts('open')).toBe(1);
    expect(await hosts('closed')).toBe(0);
    expect((await scrape(push)).value('tidings_push_failures_total', { push_service: LOCAL, cause: 'http-5xx' })).toBe(2);
    // The cool-down ran out: the next push to it is a probe.
    await vi.waitFor(async () => expect(await hosts('half-open')).toBe(1), { timeout: 10_000, interval: 50 });
    expect(await hosts('open')).toBe(0);
    status = 201;
    expect(await push.send({ v: 1, data: 'up again' })).toMatchObject({ sent: 2, failed: 0 });
    expect(await hosts('closed')).toBe(1);
    expect(await hosts('half-open')).toBe(0);
  });
});

describe('registrations and events', () => {
  let store: SubscriptionStore;
  let push: PushServer;
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    push.handler(new Request(`${base}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }), { clientAddress: '203.0.113.7' });

  it('count registrations by outcome, events accepted by verification, and forged events as refused', async () => {
    store = memoryStore();
    push = createPushServer({ vapid, store, metrics: true, pushServices: 'any', identify: (request) => (request.headers.get('x-refuse') ? null : undefined) });
    await store.createSend({ id: 'm1', envelope: { v: 1, id: 'm1' }, audience: null, options: {}, via: 'send', state: 'done', createdAt: Date.now(), targeted: 1, sent: 1, gone: 0, failed: 0, pruned: 0, capped: 0, deferred: 0, failures: [] });
    const mine = keys();
    const subscription = { endpoint: 'https://fcm.googleapis.com/fcm/send/s1', expirationTime: null, keys: mine };
    const created = await post('subscriptions', JSON.stringify({ subscription }));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await post('subscriptions', JSON.stringify({ subscription }))).status).toBe(200);
    // The same endpoint with other keys takes nothing over.
    expect((await post('subscriptions', JSON.stringify({ subscription: { ...subscription, keys: keys() } }))).status).toBe(409);
    expect((await post('subscriptions', JSON.stringify({ subscription: { ...subscription, endpoint: 'https://fcm.googleapis.com/fcm/send/s2' } }), { 'x-refuse': '1' })).status).toBe(401);
    expect((await post('subscriptions', '{"subscription":')).status).toBe(400);
    expect((await post('subscriptions', JSON.stringify({ subscription }), { 'sec-fetch-site': 'cross-site' })).status).toBe(403);

    const events = (n: number) => JSON.stringify({ subscription: id, events: Array.from({ length: n }, (_, i) => ({ id: `e${n}-${i}`, type: i === 0 ? 'shown' : 'clicked', messageId: 'm1', at: Date.now() })) });
    const body = events(2);
    const signature = signEvents(eventsKey(mine.auth)!, body);
    expect((await post('events', body, { 'tidings-signature': signature })).status).toBe(202);
    // The same body again: taken, nothing more counted.
    expect((await post('events', body, { 'tidings-signature': signature })).status).toBe(202);
    expect((await post('events', JSON.stringify({ events: [{ id: 'u1', type: 'shown', messageId: 'm1', at: Date.now() }] }))).status).toBe(202);
    // Forged: signed with a key that is not the subscription's, and other bytes than were signed.
    const forged = events(3);
    expect((await post('events', forged, { 'tidings-signature': signEvents(eventsKey(keys().auth)!, forged) })).status).toBe(403);
    expect((await post('events', forged, { 'tidings-signature': signature })).status).toBe(403);
    expect((await post('events', '[]')).status).toBe(400);

    const metrics = await scrape(push);
    const registrations = Object.fromEntries(metrics.all('tidings_registrations_total').map((s) => [s.labels.outcome, s.value]));
    expect(registrations).toEqual({ created: 1, updated: 1, conflict: 1, unauthorized: 1, invalid: 1, 'cross-site': 1 });
    expect(metrics.value('tidings_events_total', { verification: 'verified' })).toBe(4);
    expect(metrics.value('tidings_events_total', { verification: 'unverified' })).toBe(1);
    expect(metrics.value('tidings_events_counted_total')).toBe(2);
    const refused = Object.fromEntries(metrics.all('tidings_event_requests_refused_total').map((s) => [s.labels.reason, s.value]));
    expect(refused).toEqual({ signature: 2, invalid: 1 });
  });
});

describe('the metrics option', () => {
  it('puts the metrics in a registry the site passes, beside its own', async () => {
    const registry = new Registry();
    new Counter({ name: 'site_orders_total', help: 'Orders.', registers: [registry] }).inc(3);
    const push = createPushServer({ vapid, store: memoryStore(), metrics: registry });
    expect(push.metrics).toBe(registry);
    const metrics = parseMetrics(await registry.metrics());
    expect(metrics.value('site_orders_total')).toBe(3);
    expect(metrics.types.get('tidings_pushes_total')).toBe('counter');
  });

  it('sums two push servers that share a registry, defining each metric once', async () => {
    const service = await startPushService();
    cleanups.push(() => service.close());
    const registry = new Registry();
    const pushes = [1, 2].map(() => createPushServer({ vapid, store: memoryStore(), metrics: registry, allowLoopbackEndpoints: true }));
    for (const push of pushes) {
      const subscription = await service.subscribe(vapid.publicKey);
      expect((await push.send({ v: 1, data: 1 }, { to: await storeOf(push, subscription) })).sent).toBe(1);
    }
    const metrics = parseMetrics(await registry.metrics());
    expect(metrics.value('tidings_pushes_total', { push_service: LOCAL, outcome: 'sent' })).toBe(2);
    expect(metrics.value('tidings_sends_finished_total', { state: 'done' })).toBe(2);
  });

  it('has no registry and counts nothing without the option', () => {
    expect(createPushServer({ vapid, store: memoryStore() }).metrics).toBeUndefined();
    expect(createPushServer({ vapid, store: memoryStore(), metrics: false }).metrics).toBeUndefined();
  });

  it('refuses what is not a registry', () => {
    for (const metrics of ['yes', {}, { metrics: () => '' }, 1]) {
      expect(() => createPushServer({ vapid, store: memoryStore(), metrics: metrics as never })).toThrow(expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'metrics' }) }));
    }
  });

  it('a registry that throws is reported to onError, and fails no send and no request', async () => {
    const service = await startPushService();
    cleanups.push(() => service.close());
    const errors: unknown[] = [];
    // One name taken by someone else's metric, and a registry that refuses everything.
    const taken = new Registry();
    new Counter({ name: 'tidings_pushes_total', help: 'Not ours.', registers: [taken] });
    const refusing = new Registry();
    refusing.registerMetric = () => {
      throw new Error('this registry takes no metrics');
    };
    for (const registry of [taken, refusing]) {
      errors.length = 0;
      const store = memoryStore();
      const push = createPushServer({ vapid, store, metrics: registry, allowLoopbackEndpoints: true, onError: (error) => void errors.push(error) });
      expect(push.metrics).toBe(registry);
      expect(errors.length).toBeGreaterThan(0);
      expect(String(errors[0])).toMatch(registry === taken ? /tidings_pushes_total has already been registered/ : /takes no metrics/);
      const subscription = await service.subscribe(vapid.publicKey);
      await store.saveSubscription({ subscription });
      expect((await push.send({ v: 1, data: 1 })).sent).toBe(1);
      const registered = await push.handler(new Request(`${base}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscription }) }), { clientAddress: '203.0.113.7' });
      expect(registered.status).toBe(200);
      const text = await registry.metrics();
      if (registry === taken) {
        // The rest of tidings' metrics are there; the taken name stays the site's.
        expect(parseMetrics(text).value('tidings_sends_finished_total', { state: 'done' })).toBe(1);
        expect(text).toContain('# HELP tidings_pushes_total Not ours.');
      } else expect(text).toBe('\n');
    }
  });
});

describe('gauges read at the scrape', () => {
  it('a queue whose depth does not come leaves its gauges out of that scrape and tells onError; the rest answers', async () => {
    const errors: unknown[] = [];
    const metrics = metricsOption(true, (error) => void errors.push(error))!;
    let answer: (depth: QueueDepth) => void = () => {};
    // Redis unreachable: BullMQ waits for it, so the read only ends when the scrape gives up.
    metrics.source.queue = { name: 'stuck', depth: () => new Promise((resolve) => (answer = resolve)) };
    metrics.source.delivery.concluded('fcm.googleapis.com', { outcome: 'sent', status: 201 });
    const text = await metrics.registry.metrics();
    expect(parseMetrics(text).all('tidings_queue_jobs')).toEqual([]);
    expect(parseMetrics(text).value('tidings_pushes_total', { push_service: 'fcm.googleapis.com', outcome: 'sent' })).toBe(1);
    expect(String(errors[0])).toMatch(/the depth of queue stuck did not come within 2000 ms/);
    answer({ waiting: 1, delayed: 0, active: 0, failed: 0, oldestWaitingSeconds: 2 });
    metrics.source.queue = { name: 'stuck', depth: async () => ({ waiting: 4, delayed: 1, active: 2, failed: 3, oldestWaitingSeconds: 7.5 }) };
    const next = parseMetrics(await metrics.registry.metrics());
    expect(next.all('tidings_queue_jobs').map((s) => [s.labels.state, s.value])).toEqual([['waiting', 4], ['delayed', 1], ['active', 2], ['failed', 3]]);
    expect(next.value('tidings_queue_oldest_waiting_seconds', { queue: 'stuck' })).toBe(7.5);
  });
});

describe('bounded labels', () => {
  it('names at most 32 push services; pushes to the rest count under other', async () => {
    // Forty push services: hosts on 127.0.<n>.1 (loopback on Linux), each /24 a push service of its own.
    const store = memoryStore();
    for (let n = 0; n < 40; n++) {
      const host = await listen(`127.0.${n}.1`);
      cleanups.push(() => host.close());
      await store.saveSubscription({ subscription: { endpoint: `${host.origin}/push/${n}`, expirationTime: null, keys: keys() } });
    }
    const push = createPushServer({ vapid, store, metrics: true, allowLoopbackEndpoints: true });
    expect((await push.send({ v: 1, data: 1 })).sent).toBe(40);
    const sent = (await scrape(push)).all('tidings_pushes_total').filter((s) => s.labels.outcome === 'sent');
    expect(sent).toHaveLength(33);
    expect(sent.reduce((sum, s) => sum + s.value, 0)).toBe(40);
    expect(sent.find((s) => s.labels.push_service === 'other')?.value).toBe(8);
    expect(sent.filter((s) => s.labels.push_service !== 'other').every((s) => /^127\.0\.\d+\.0\/24$/.test(s.labels.push_service!) && s.value === 1)).toBe(true);
  });
});

/** A push service that takes every push, on one loopback address. */
async function listen(address: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((_request, response) => void response.writeHead(201).end());
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://${address}:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function keys() {
  return { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(crypto.getRandomValues(new Uint8Array(16))) };
}

/** Registers a subscription with the push server's own handler, and answers its id. */
async function storeOf(push: PushServer, subscription: object): Promise<string> {
  const response = await push.handler(new Request(`${base}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscription }) }), { clientAddress: '203.0.113.7' });
  return ((await response.json()) as { id: string }).id;
}
