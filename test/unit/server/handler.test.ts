import { beforeEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServer, type SubscriptionStore } from '../../../src/server/index.js';
import { createECDH } from 'node:crypto';
import { toBase64Url } from '../../../src/shared/base64url.js';

const base = 'https://site.example/api/push';
const p256dh = createECDH('prime256v1').generateKeys('base64url');
const auth = toBase64Url(new Uint8Array(16).fill(7));
const subscription = { endpoint: 'https://push.example.net/wpush/v2/abc', expirationTime: null, keys: { p256dh, auth } };

let store: SubscriptionStore;
let server: PushServer;
beforeEach(() => {
  store = memoryStore();
  server = createPushServer({ vapid: { ...generateVapidKeys(), subject: 'mailto:ops@site.example' }, store, clientAttributes: ['lang'], pushServices: ['push.example.net'] });
});

function post(path: string, body: string | object, headers: Record<string, string> = {}): Promise<Response> {
  return server.handler(
    new Request(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

async function rejected(response: Response, status: number, field: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(await response.json()).toMatchObject({ error: 'invalid-request', field });
}

describe('the handler refuses hostile bodies', () => {
  it('answers 400 naming the body for malformed JSON', async () => {
    for (const body of ['{', 'nul', '{"subscription":', '\u0000', '']) await rejected(await post('/subscriptions', body), 400, 'body');
  });

  it('answers 400 for JSON that is not an object', async () => {
    for (const body of ['null', '[]', '"x"', '42', 'true']) await rejected(await post('/subscriptions', body), 400, 'body');
  });

  it('answers 413 for a body over the bound, whatever Content-Length says', async () => {
    const huge = JSON.stringify({ subscription, attributes: { pad: 'x'.repeat(70_000) } });
    await rejected(await post('/subscriptions', huge), 413, 'body');
    await rejected(await post('/events', `{"events":[${'{},'.repeat(30_000)}{}]}`), 413, 'body');
  });

  it('answers 413 for a streamed body with no Content-Length', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(16_384));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ > 100) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const request = new Request(`${base}/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    await rejected(await server.handler(request), 413, 'body');
    expect(sent).toBeLessThan(10);
  });

  it.each([
    ['javascript:alert(1)', 'scheme'],
    ['data:text/plain,hi', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['http://push.example.net/x', 'not-https'],
    ['https://user:pw@push.example.net/x', 'credentials'],
    ['not a url', 'not-url'],
    [`https://push.example.net/${'a'.repeat(3000)}`, 'too-long'],
    [42, 'not-string'],
  ])('answers 400 for the endpoint %s', async (endpoint, reason) => {
    const response = await post('/subscriptions', { subscription: { ...subscription, endpoint } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid-request', field: 'subscription.endpoint', reason });
  });

  const loopbacks = ['http://127.0.0.1:8090/x', 'http://localhost/x', 'http://[::1]:9/x', 'https://127.0.0.1:6379/x'];

  it('refuses loopback endpoints by default: sends would reach services on its own host', async () => {
    for (const endpoint of loopbacks) {
      const response = await post('/subscriptions', { subscription: { ...subscription, endpoint } });
      await rejected(response, 400, 'subscription.endpoint');
    }
    expect(await store.findSubscriptions()).toEqual([]);
  });

  it('accepts loopback endpoints when allowed, for local push services', async () => {
    server = createPushServer({ vapid: { ...generateVapidKeys(), subject: 'mailto:ops@site.example' }, store, allowLoopbackEndpoints: true });
    for (const endpoint of loopbacks) {
      const keys = { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth };
      expect((await post('/subscriptions', { subscription: { ...subscription, endpoint, keys } })).status).toBe(201);
    }
  });

  it.each([
    ['subscription.keys.p256dh', { p256dh: toBase64Url(new Uint8Array(64)), auth }],
    ['subscription.keys.p256dh', { p256dh: toBase64Url(new Uint8Array(65)), auth }],
    ['subscription.keys.p256dh', { p256dh: '!!!', auth }],
    ['subscription.keys.auth', { p256dh, auth: toBase64Url(new Uint8Array(15)) }],
    ['subscription.keys.auth', { p256dh, auth: toBase64Url(new Uint8Array(17)) }],
    ['subscription.keys.auth', { p256dh, auth: null }],
    ['subscription.keys', 'keys'],
  ])('answers 400 naming %s for wrong-length keys', async (field, keys) => {
    await rejected(await post('/subscriptions', { subscription: { ...subscription, keys } }), 400, field);
  });

  it('checks the seal key like the subscription keys', async () => {
    const sealKey = { p256dh, auth: toBase64Url(new Uint8Array(8)) };
    await rejected(await post('/subscriptions', { subscription, sealKey }), 400, 'sealKey.auth');
  });

  it('bounds attributes in count, key and value', async () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    await rejected(await post('/subscriptions', { subscription, attributes: many }), 400, 'attributes');
    await rejected(await post('/subscriptions', { subscription, attributes: { 'a b': 1 } }), 400, 'attributes');
    await rejected(await post('/subscriptions', { subscription, attributes: { lang: 'x'.repeat(257) } }), 400, 'attributes.lang');
    await rejected(await post('/subscriptions', { subscription, attributes: { nested: { a: 1 } } }), 400, 'attributes.nested');
    await rejected(await post('/subscriptions', { subscription, attributes: [] }), 400, 'attributes');
  });

  it('does not let __proto__ in a body reach the store', async () => {
    const body = `{"subscription":${JSON.stringify(subscription)},"attributes":{"__proto__":{"admin":true}}}`;
    await rejected(await post('/subscriptions', body), 400, 'attributes');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('answers 400 naming the event field for bad events', async () => {
    const event = { id: 'e1', type: 'shown', at: 1 };
    await rejected(await post('/events', {}), 400, 'events');
    await rejected(await post('/events', { events: [{ ...event, type: 'hacked' }] }), 400, 'events[0].type');
    await rejected(await post('/events', { events: [event, { ...event, id: '' }] }), 400, 'events[1].id');
    await rejected(await post('/events', { events: [{ ...event, at: -1 }] }), 400, 'events[0].at');
    await rejected(await post('/events', { events: [{ ...event, reason: 'x'.repeat(2000) }] }), 400, 'events[0].reason');
    await rejected(await post('/events', { events: Array.from({ length: 101 }, (_, i) => ({ ...event, id: `e${i}` })) }), 400, 'events');
  });

  it('answers 404 and 405 outside the contract', async () => {
    expect((await server.handler(new Request('https://site.example/elsewhere'))).status).toBe(404);
    expect((await server.handler(new Request(`${base}/subscriptions`))).status).toBe(405);
    expect((await server.handler(new Request(`${base}/subscriptions/a/b`, { method: 'DELETE' }))).status).toBe(404);
    expect((await server.handler(new Request(`${base}/messages/x`, { method: 'POST' }))).headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('the handler serves the backend contract', () => {
  it('registers idempotently on the endpoint: 201 new, 200 known, same id', async () => {
    const first = await post('/subscriptions', { subscription, attributes: { lang: 'en' } });
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    const again = await post('/subscriptions', { subscription, attributes: { lang: 'fr' } });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id });
    expect((await store.getSubscription(id))?.attributes).toEqual({ lang: 'fr' });
  });

  it('deletes by id: 204, then 404', async () => {
    const { id } = (await (await post('/subscriptions', { subscription })).json()) as { id: string };
    const remove = () => server.handler(new Request(`${base}/subscriptions/${id}`, { method: 'DELETE' }));
    expect((await remove()).status).toBe(204);
    expect((await remove()).status).toBe(404);
  });

  it('answers 404, not 500, to a malformed percent-escape in an id', async () => {
    for (const path of ['/subscriptions/%E0%A4%A', '/messages/%']) {
      const method = path.startsWith('/messages') ? 'GET' : 'DELETE';
      const response = await server.handler(new Request(`${base}${path}`, { method }));
      expect(response.status, path).toBe(404);
    }
  });

  it('stores unsigned events once per id, as unverified (counted nowhere), and answers 202', async () => {
    const events = [
      { id: 'e1', type: 'delivered', messageId: 'm1', at: Date.now() - 2 },
      { id: 'e2', type: 'clicked', messageId: 'm1', action: 'open', at: Date.now() - 1 },
    ];
    const first = await post('/events', { events });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ received: 2, stored: 2, counted: 0 });
    expect(await (await post('/events', { events })).json()).toEqual({ received: 2, stored: 0, counted: 0 });
    expect(await store.listEvents({ messageId: 'm1' })).toEqual(events);
  });

  it('serves stored messages, uncached, and 404 for unknown ones', async () => {
    await store.saveMessage('k1', '{"v":1,"id":"m"}', Date.now() + 60_000);
    const response = await server.handler(new Request(`${base}/messages/k1`));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toContain('no-store');
    expect(await response.json()).toEqual({ v: 1, id: 'm' });
    expect((await server.handler(new Request(`${base}/messages/nope`))).status).toBe(404);
  });

  it('honours a custom basePath', async () => {
    const custom = createPushServer({ vapid: { ...generateVapidKeys(), subject: 'https://site.example' }, store, basePath: '/push/' });
    const request = new Request('https://site.example/push/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"events":[]}',
    });
    expect((await custom.handler(request)).status).toBe(202);
  });
});

describe('createPushServer checks its options once', () => {
  const vapid = { ...generateVapidKeys(), subject: 'mailto:a@b.c' };
  it.each([
    ['vapid.subject', { vapid: { ...vapid, subject: 'ops@example.com' } }],
    ['vapid.publicKey', { vapid: { ...vapid, publicKey: generateVapidKeys().publicKey } }],
    ['vapid.privateKey', { vapid: { ...vapid, privateKey: 'short' } }],
    ['concurrency', { vapid, concurrency: 0 }],
    ['basePath', { vapid, basePath: 'api push' }],
  ])('rejects a bad %s', (option, options) => {
    expect(() => createPushServer({ store: memoryStore(), ...options } as Parameters<typeof createPushServer>[0])).toThrow(
      expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option }) }),
    );
  });
});
