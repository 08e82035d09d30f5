import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newReceiver, openText } from '../../support/receiver.js';
import { createPushServer, generateVapidKeys, memoryStore, type PushServer, type SubscriptionStore } from '../../../src/server/index.js';
import type { Envelope, SubscriptionJSON } from '../../../src/shared/protocol.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { PAGE_SIZE } from '../../../src/server/send/pagedSubscriptions.js';
import { protocols } from '../../support/pushHost.js';

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const origin = 'https://site.example';
let service: PushService;
let store: SubscriptionStore;
let server: PushServer;
beforeEach(async () => {
  service = await startPushService();
  store = memoryStore();
  server = pushServer();
});
afterEach(() => service.close());

function pushServer() {
  // A generous timeout: a retry after a timeout the push service did answer is a duplicate, and a loaded machine is slow.
  const options = { vapid, store, retries: 1, maxRetryDelay: 50, timeout: 10_000, allowLoopbackEndpoints: true, clientAttributes: ['lang'] };
  return createPushServer(service.ca ? { ...options, ca: service.ca } : options);
}

/** Registers through the handler, as the page would. */
async function register(subscription: SubscriptionJSON, extra: object = {}): Promise<string> {
  const response = await server.handler(
    new Request(`${origin}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subscription, ...extra }),
    }),
  );
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function sealKeyPair() {
  const receiver = await newReceiver();
  return { receiver, sealKey: receiver.keys };
}

async function receivedEnvelopes(endpoint: string): Promise<Envelope[]> {
  return (await service.received(endpoint)).map((text) => JSON.parse(text) as Envelope);
}

async function fetchEnvelope(path: string): Promise<string> {
  const response = await server.handler(new Request(`${origin}${path}`));
  expect(response.status).toBe(200);
  return response.text();
}

describe.each(protocols)('over %s', (which) => {
  describe('send() through the local push service', () => {
    beforeEach(async () => {
      if (which === 'HTTP/1.1') return;
      // The local push service over TLS speaks HTTP/2, as autopush does.
      await service.close();
      service = await startPushService({ tls: true });
      server = pushServer();
    });

    it('delivers to every headless subscriber, VAPID-restricted to our key', async () => {
      const subscriptions = await Promise.all([1, 2, 3].map(() => service.subscribe(vapid.publicKey)));
      for (const subscription of subscriptions) await register(subscription);
      const result = await server.send({ v: 1, id: 'm1', notification: { title: 'Hello' } }, { urgency: 'high', topic: 'greeting' });
      expect(result).toEqual({ id: 'm1', sent: 3, gone: 0, failed: 0, pruned: 0, errors: [] });
      for (const { endpoint } of subscriptions) {
        expect(service.messages(endpoint)[0]).toMatchObject({ urgency: 'high', topic: 'greeting', ttl: 2_419_200, httpVersion: which === 'HTTP/2' ? '2.0' : '1.1' });
        // An id the caller chose may have gone out before: marked so (markRetry).
        expect(await receivedEnvelopes(endpoint)).toEqual([{ v: 1, id: 'm1', notification: { title: 'Hello' }, retry: true }]);
      }
    });

    it('reaches each subscriber of an audience longer than a page once, pruning gone ones on the way', async () => {
      const count = PAGE_SIZE + 50;
      const subscriptions = await Promise.all(Array.from({ length: count }, () => service.subscribe()));
      for (const subscription of subscriptions) await store.saveSubscription({ subscription });
      const gone = subscriptions.filter((_, i) => i % 100 == 0);
      for (const { endpoint } of gone) service.expire(endpoint);
      const result = await server.send({ v: 1, id: 'wide', data: 1 });
      expect(result).toMatchObject({ sent: count - gone.length, gone: gone.length, failed: 0 });
      for (const [i, { endpoint }] of subscriptions.entries()) expect(service.messages(endpoint)).toHaveLength(i % 100 == 0 ? 0 : 1);
      expect(await store.findSubscriptions()).toHaveLength(count - gone.length);
    }, 30_000);

    it('targets ids and attributes, and names the message when the envelope has no id', async () => {
      const en = await service.subscribe();
      const fr = await service.subscribe();
      const enId = await register(en, { attributes: { lang: 'en' } });
      await register(fr, { attributes: { lang: 'fr' } });
      const byAttribute = await server.send({ v: 1, data: 'fr only' }, { to: { attributes: { lang: 'fr' } } });
      expect(byAttribute.sent).toBe(1);
      expect(byAttribute.id).toMatch(/^[0-9a-z]{9}[A-Za-z0-9_-]+$/);
      expect(await receivedEnvelopes(fr.endpoint)).toEqual([{ v: 1, id: byAttribute.id, data: 'fr only' }]);
      expect((await server.send({ v: 1, data: 'en' }, { to: enId })).sent).toBe(1);
      expect((await server.send({ v: 1, data: 'both' }, { to: [enId, 'unknown'] })).sent).toBe(1);
      expect(await service.received(en.endpoint)).toHaveLength(2);
    });

    it('seals for a subscription with a seal key; the record opens with RFC 8291 decryption', async () => {
      const subscription = await service.subscribe();
      const seal = await sealKeyPair();
      await register(subscription, { sealKey: seal.sealKey });
      const envelope: Envelope = { v: 1, id: 'secret', notification: { title: 'For your eyes', body: 'only' } };
      await server.send(envelope);
      const [outer] = await receivedEnvelopes(subscription.endpoint);
      expect(Object.keys(outer!).sort()).toEqual(['id', 'retry', 'sealed', 'v']);
      expect(JSON.parse(await openText(outer!.sealed!, seal.receiver))).toEqual(envelope);
    });

    it('sends plain to a sealed subscription when told seal: false', async () => {
      const subscription = await service.subscribe();
      await register(subscription, { sealKey: (await sealKeyPair()).sealKey });
      const envelope: Envelope = { v: 1, id: 'public', notification: { title: 'Public news' } };
      expect((await server.send(envelope, { seal: false })).sent).toBe(1);
      expect(await receivedEnvelopes(subscription.endpoint)).toEqual([{ ...envelope, retry: true }]);
    });

    it('stores an envelope too large to push and sends a fetch pointer the handler serves', async () => {
      const subscription = await service.subscribe();
      await register(subscription);
      const envelope: Envelope = { v: 1, id: 'big', ts: 1, notification: { title: 'Long read', body: 'x'.repeat(4000) } };
      const result = await server.send(envelope);
      expect(result.sent).toBe(1);
      const [pointer] = await receivedEnvelopes(subscription.endpoint);
      expect(pointer).toEqual({ v: 1, id: 'big', ts: 1, fetch: expect.stringMatching(/^\/api\/push\/messages\/[A-Za-z0-9_-]{22}$/), retry: true });
      expect(JSON.parse(await fetchEnvelope(pointer!.fetch!))).toEqual(envelope);
    });

    it('stores a sealed envelope too large to push, still sealed', async () => {
      const subscription = await service.subscribe();
      const seal = await sealKeyPair();
      await register(subscription, { sealKey: seal.sealKey });
      const envelope: Envelope = { v: 1, id: 'big-secret', data: { text: 'y'.repeat(3500) } };
      await server.send(envelope);
      const [pointer] = await receivedEnvelopes(subscription.endpoint);
      const stored = JSON.parse(await fetchEnvelope(pointer!.fetch!)) as Envelope;
      expect(stored).toMatchObject({ v: 1, id: 'big-secret', sealed: expect.any(String) });
      expect(JSON.parse(await openText(stored.sealed!, seal.receiver))).toEqual(envelope);
    });

    it('marks nothing in a message whose id it made: the worker may show it at once', async () => {
      const plain = await service.subscribe();
      const sealed = await service.subscribe();
      await register(plain);
      await register(sealed, { sealKey: (await sealKeyPair()).sealKey });
      const small = await server.send({ v: 1, notification: { title: 'New' } });
      const large = await server.send({ v: 1, data: 'z'.repeat(4000) });
      for (const { endpoint } of [plain, sealed]) {
        const received = await receivedEnvelopes(endpoint);
        expect(received.map((envelope) => envelope.id)).toEqual([small.id, large.id]);
        for (const envelope of received) expect(envelope).not.toHaveProperty('retry');
      }
    });

    it("marks every payload of a message whose id the caller chose, outside the seal and on the pointer, unless it says retry: false", async () => {
      const subscription = await service.subscribe();
      const seal = await sealKeyPair();
      await register(subscription, { sealKey: seal.sealKey });
      const envelope: Envelope = { v: 1, id: 'chosen', notification: { title: 'Maybe again' } };
      await server.send(envelope);
      await server.send({ ...envelope, id: 'chosen-large', data: 'z'.repeat(4000) });
      await server.send({ ...envelope, id: 'known-new', retry: false });
      const [outer, pointer, unmarked] = await receivedEnvelopes(subscription.endpoint);
      expect(outer).toMatchObject({ id: 'chosen', retry: true });
      // The sealed message carries the envelope as it was sent, unmarked.
      expect(JSON.parse(await openText(outer!.sealed!, seal.receiver))).toEqual(envelope);
      expect(pointer).toMatchObject({ id: 'chosen-large', fetch: expect.any(String), retry: true });
      expect(JSON.parse(await fetchEnvelope(pointer!.fetch!))).not.toHaveProperty('retry');
      expect(unmarked).toMatchObject({ id: 'known-new' });
      expect(unmarked).not.toHaveProperty('retry');
    });

    it('never pushes a body over 4096 bytes', async () => {
      const subscription = await service.subscribe();
      await register(subscription);
      for (const size of [3900, 3960, 3993, 3994, 4100]) {
        await server.send({ v: 1, id: `s${size}`, data: 'z'.repeat(size - 30) });
      }
      for (const message of service.messages(subscription.endpoint)) expect(message.body.length).toBeLessThanOrEqual(4096);
      expect(service.messages(subscription.endpoint)).toHaveLength(5);
    });

    it('prunes subscriptions the push service says are gone (410 and 404)', async () => {
      const expired = await service.subscribe();
      const expiredId = await register(expired);
      const unknownId = await register({ ...(await service.subscribe()), endpoint: `${service.url}/wpush/v1/never-issued` });
      service.expire(expired.endpoint);
      expect(await server.send({ v: 1 })).toMatchObject({ sent: 0, gone: 2, failed: 0 });
      expect(await store.getSubscription(expiredId)).toBeUndefined();
      expect(await store.getSubscription(unknownId)).toBeUndefined();
    });

    it('names the ids it does not know, instead of a bare {sent: 0}', async () => {
      const known = await register(await service.subscribe());
      const result = await server.send({ v: 1, id: 'to-ids' }, { to: [known, 'deleted-or-typo', known] });
      expect(result).toMatchObject({ sent: 1, unknown: ['deleted-or-typo'] });
      expect((await server.send({ v: 1 }, { to: 'nobody' })).unknown).toEqual(['nobody']);
      expect((await server.send({ v: 1 })).unknown).toBeUndefined();
    });

    it('refuses an invalid envelope or options before sending anything', async () => {
      await expect(server.send({ v: 2 } as unknown as Envelope)).rejects.toMatchObject({ code: 'invalid-envelope' });
      await expect(server.send({ v: 1 }, { topic: 'bad topic!' })).rejects.toMatchObject({ code: 'invalid-option', details: { option: 'topic' } });
      await expect(server.send({ v: 1 }, { ttl: -1 })).rejects.toMatchObject({ code: 'invalid-option', details: { option: 'ttl' } });
    });
  });
});

describe('send() against a misbehaving push service', () => {
  let fake: Server;
  let url: string;
  let hits: number;
  let answer: (request: IncomingMessage, response: ServerResponse, hit: number) => void;
  beforeEach(async () => {
    hits = 0;
    fake = createServer((request, response) => {
      request.resume();
      // What a push service answers to a request that is not a push (the sender's check that a silent host is up).
      if (request.method === 'HEAD') return response.writeHead(404).end();
      answer(request, response, ++hits);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/push`;
  });
  afterEach(async () => {
    fake.closeAllConnections();
    await new Promise((resolve) => fake.close(resolve));
  });

  async function sendOne(options: Parameters<typeof createPushServer>[0] extends infer O ? Partial<O> : never = {}) {
    const subscription = await service.subscribe();
    const local = createPushServer({ vapid, store: memoryStore(), retries: 2, maxRetryDelay: 1000, timeout: 2000, allowLoopbackEndpoints: true, ...options });
    await local.handler(
      new Request(`${origin}/api/push/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscription: { ...subscription, endpoint: url } }) }),
    );
    return local.send({ v: 1, id: 'm' });
  }

  it('retries a 429, waiting as long as Retry-After says (up to the bound)', async () => {
    answer = (_req, res, hit) => {
      if (hit === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(201).end();
    };
    const started = performance.now();
    const result = await sendOne({ maxRetryDelay: 300 });
    const waited = performance.now() - started;
    expect(result).toMatchObject({ sent: 1, failed: 0 });
    expect(hits).toBe(2);
    expect(waited).toBeGreaterThanOrEqual(280);
    expect(waited).toBeLessThan(900);
  });

  it('retries 5xx with backoff, then reports the failure with its status', async () => {
    answer = (_req, res) => res.writeHead(500).end('{"error":"boom"}');
    const result = await sendOne({ retries: 2, maxRetryDelay: 20 });
    expect(hits).toBe(3);
    expect(result).toMatchObject({ sent: 0, failed: 1, errors: [{ status: 500, reason: '{"error":"boom"}', endpoint: url }] });
  });

  it('does not retry a 4xx that is not 429', async () => {
    answer = (_req, res) => res.writeHead(400).end('bad');
    const result = await sendOne();
    expect(hits).toBe(1);
    expect(result.errors[0]).toMatchObject({ status: 400, reason: 'bad' });
  });

  it('gives up on a push service that hangs, after the timeout, and tries it again only if it answered before', async () => {
    answer = () => {};
    const started = performance.now();
    const result = await sendOne({ timeout: 150, retries: 1, maxRetryDelay: 10 });
    // A host never heard from that does not answer is not worth a second timeout.
    expect(hits).toBe(1);
    expect(result.errors[0]).toMatchObject({ reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1500);

    // One that answered before and then hangs is retried.
    hits = 0;
    const subscription = await service.subscribe();
    const store = memoryStore();
    const local = createPushServer({ vapid, store, retries: 1, maxRetryDelay: 10, timeout: 150, allowLoopbackEndpoints: true });
    for (const path of ['/a', '/b']) await store.saveSubscription({ subscription: { ...subscription, endpoint: url + path } });
    answer = (_req, res, hit) => (hit === 2 ? undefined : res.writeHead(201).end());
    const again = await local.send({ v: 1, id: 'm' });
    expect(again).toMatchObject({ sent: 2, failed: 0 });
    expect(hits).toBe(3);
  });

  it('fails a stored subscription whose keys cannot be encrypted to, without a request, and goes on', async () => {
    answer = (_req, res) => res.writeHead(201).end();
    const bad = [
      { p256dh: 'AAAA', auth: 'BTBZMqHH6r4Tts7J_aSIgg' },
      // 65 bytes, but not a point on the curve.
      { p256dh: `BA${'A'.repeat(85)}`, auth: 'BTBZMqHH6r4Tts7J_aSIgg' },
      { p256dh: (await newReceiver()).keys.p256dh, auth: 'c2hvcnQ' },
    ];
    const store = memoryStore();
    const sender = createPushServer({ vapid, store, allowLoopbackEndpoints: true, retries: 0 });
    for (const keys of bad) await store.saveSubscription({ subscription: { endpoint: `${url}/${keys.auth}${keys.p256dh.length}`, expirationTime: null, keys } });
    await store.saveSubscription({ subscription: { endpoint: `${url}/good`, expirationTime: null, keys: (await newReceiver()).keys } });
    const result = await sender.send({ v: 1 });
    expect(result).toMatchObject({ sent: 1, failed: 3 });
    expect(result.errors.every((error) => error.reason.startsWith('keys: '))).toBe(true);
    expect(hits).toBe(1);
  });

  it('sends VAPID aes128gcm requests with TTL, Urgency and Topic', async () => {
    let seen: IncomingMessage | undefined;
    answer = (req, res) => {
      seen = req;
      res.writeHead(201).end();
    };
    const subscription = await service.subscribe();
    const local = createPushServer({ vapid, store: memoryStore(), allowLoopbackEndpoints: true });
    await local.handler(
      new Request(`${origin}/api/push/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscription: { ...subscription, endpoint: url } }) }),
    );
    await local.send({ v: 1 }, { ttl: 30, urgency: 'low', topic: 'news' });
    expect(seen?.headers).toMatchObject({ ttl: '30', urgency: 'low', topic: 'news', 'content-encoding': 'aes128gcm' });
    expect(seen?.headers.authorization).toMatch(/^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]{87}$/);
  });
});
