import { createECDH } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createPushServer,
  generateVapidKeys,
  memoryStore,
  toNodeHandler,
  type PushServerOptions,
  type SubscriptionStore,
} from '../../../src/server/index.js';
import { toBase64Url } from '../../../src/shared/base64url.js';

// The backend is reachable by anyone on the internet: each test here is an attack from
// the issue "The backend trusts no one", tried through the public handler.

const base = 'https://site.example/api/push';
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const newKeys = () => ({ p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(crypto.getRandomValues(new Uint8Array(16))) });
const endpoint = 'https://push.example.net/wpush/v2/victim';
const victim = { endpoint, expirationTime: null, keys: newKeys() };

/** Reads the demo-style session cookie `sid=<user>`; no cookie is an anonymous visitor. */
const identifyByCookie = (request: Request) => {
  const sid = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
  return sid === undefined ? undefined : sid === 'banned' ? null : { user: sid };
};

let store: SubscriptionStore;
let server: ReturnType<typeof createPushServer>;
function serve(options: Partial<PushServerOptions> = {}) {
  server = createPushServer({ vapid, store, identify: identifyByCookie, clientAttributes: ['lang'], pushServices: ['push.example.net'], ...options });
}
beforeEach(() => {
  store = memoryStore();
  serve();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}, info?: { clientAddress: string }): Promise<Response> {
  const request = new Request(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return server.handler(request, info);
}

describe('identity comes from the server, never the browser', () => {
  it('refuses a browser-sent attribute that is not client-settable, naming it, and stores nothing', async () => {
    const response = await post('/subscriptions', { subscription: victim, attributes: { user: 'u42' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ field: 'attributes.user', reason: 'not-client-settable' });
    expect(await store.findSubscriptions()).toEqual([]);
  });

  it('stores what identify returns, so a send to {attributes: {user}} reaches that visitor only', async () => {
    const mine = { ...victim, endpoint: `${endpoint}-mine`, keys: newKeys() };
    expect((await post('/subscriptions', { subscription: victim, attributes: { lang: 'en' } }, { cookie: 'sid=u42' })).status).toBe(201);
    expect((await post('/subscriptions', { subscription: mine }, { cookie: 'sid=attacker' })).status).toBe(201);
    const targets = await store.findSubscriptions({ attributes: { user: 'u42' } });
    expect(targets.map((entry) => entry.subscription.endpoint)).toEqual([endpoint]);
    expect(targets[0]?.attributes).toEqual({ user: 'u42', lang: 'en' });
  });

  it('lets the server win over a client-settable key of the same name', async () => {
    serve({ clientAttributes: ['user'] });
    await post('/subscriptions', { subscription: victim, attributes: { user: 'u42' } }, { cookie: 'sid=attacker' });
    expect((await store.getSubscriptionByEndpoint(endpoint))?.attributes).toEqual({ user: 'attacker' });
  });

  it('answers 401 and stores nothing when identify says null', async () => {
    const response = await post('/subscriptions', { subscription: victim }, { cookie: 'sid=banned' });
    expect(response.status).toBe(401);
    expect(await store.findSubscriptions()).toEqual([]);
  });

  it('answers 500 and reports to onError when identify throws or returns garbage', async () => {
    const onError = vi.fn();
    serve({ onError, identify: () => Promise.reject(new Error('session store down')) });
    expect((await post('/subscriptions', { subscription: victim })).status).toBe(500);
    serve({ onError, identify: () => ({ user: { nested: true } }) as never });
    expect((await post('/subscriptions', { subscription: victim })).status).toBe(500);
    expect(onError).toHaveBeenCalledTimes(2);
    expect(onError.mock.calls[1]?.[0]).toMatchObject({ code: 'invalid-option', details: { option: 'identify' } });
    expect(await store.findSubscriptions()).toEqual([]);
  });
});

describe('only push services are registered', () => {
  it.each(['https://push.example.net/x', 'https://internal.corp/x', 'https://db:5432/x', 'https://169.254.169.254/latest', 'https://fcm.googleapis.com:8443/x'])(
    'refuses %s by default, naming the endpoint, and stores nothing',
    async (url) => {
      server = createPushServer({ vapid, store });
      const response = await post('/subscriptions', { subscription: { ...victim, endpoint: url } });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ field: 'subscription.endpoint' });
      expect(await store.findSubscriptions()).toEqual([]);
    },
  );

  it('accepts the known push services by default', async () => {
    server = createPushServer({ vapid, store });
    for (const url of ['https://fcm.googleapis.com/fcm/send/a', 'https://updates.push.services.mozilla.com/wpush/v2/b', 'https://web.push.apple.com/c', 'https://wns2-par02p.notify.windows.com/w/?token=d']) {
      expect((await post('/subscriptions', { subscription: { ...victim, endpoint: url, keys: newKeys() } })).status, url).toBe(201);
    }
  });
});

describe('a known endpoint is not taken over', () => {
  it('gives no id and changes nothing when someone re-registers the endpoint with other keys', async () => {
    const { id } = (await (await post('/subscriptions', { subscription: victim, attributes: { lang: 'en' } }, { cookie: 'sid=u42' })).json()) as { id: string };
    const attack = await post('/subscriptions', { subscription: { ...victim, keys: newKeys() }, attributes: { lang: 'xx' } }, { cookie: 'sid=attacker' });
    expect(attack.status).toBe(409);
    expect(await attack.json()).toEqual({ error: 'conflict', field: 'subscription.endpoint' });
    const stored = await store.getSubscription(id);
    expect(stored?.subscription.keys).toEqual(victim.keys);
    expect(stored?.attributes).toEqual({ user: 'u42', lang: 'en' });
    // Anonymous, too.
    expect((await post('/subscriptions', { subscription: { ...victim, keys: newKeys() } })).status).toBe(409);
  });

  it('answers the same id to whoever proves the same keys (the browser itself), idempotently', async () => {
    const first = (await (await post('/subscriptions', { subscription: victim })).json()) as { id: string };
    const again = await post('/subscriptions', { subscription: victim }, { cookie: 'sid=u42' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    // The same browser, now logged in: the stored owner follows the session.
    expect((await store.getSubscription(first.id))?.attributes).toEqual({ user: 'u42' });
  });

  it('lets the same identified owner replace the keys (the browser made a new subscription)', async () => {
    const first = (await (await post('/subscriptions', { subscription: victim }, { cookie: 'sid=u42' })).json()) as { id: string };
    const keys = newKeys();
    const again = await post('/subscriptions', { subscription: { ...victim, keys } }, { cookie: 'sid=u42' });
    expect(again.status).toBe(200);
    expect((await store.getSubscription(first.id))?.subscription.keys).toEqual(keys);
  });
});

describe('state changes must be same-site JSON (CSRF)', () => {
  it.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['json look-alike', 'application/jsonx'],
  ])('answers 415 to a body sent as %s, and stores nothing', async (_name, type) => {
    for (const path of ['/subscriptions', '/events']) {
      const response = await post(path, { subscription: victim, events: [] }, { 'content-type': type });
      expect(response.status, path).toBe(415);
    }
    expect(await store.findSubscriptions()).toEqual([]);
  });

  it('answers 415 to a body with no content type', async () => {
    const request = new Request(`${base}/subscriptions`, { method: 'POST', body: new Blob([JSON.stringify({ subscription: victim })]) });
    expect(request.headers.get('content-type')).toBeNull();
    expect((await server.handler(request)).status).toBe(415);
  });

  it('accepts application/json with a charset', async () => {
    expect((await post('/subscriptions', { subscription: victim }, { 'content-type': 'Application/JSON; charset=utf-8' })).status).toBe(201);
  });

  it.each([
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['a look-alike Origin', { origin: 'https://site.example.evil.example' }],
    ['Origin: null', { origin: 'null' }],
  ])('answers 403 to %s, for registration, deletion and events', async (_name, headers) => {
    expect((await post('/subscriptions', { subscription: victim }, { cookie: 'sid=u42', ...headers })).status).toBe(403);
    expect((await post('/events', { events: [] }, headers)).status).toBe(403);
    const remove = new Request(`${base}/subscriptions/some-id`, { method: 'DELETE', headers });
    expect((await server.handler(remove)).status).toBe(403);
    expect(await store.findSubscriptions()).toEqual([]);
  });

  it('accepts its own origin (by host, whatever the scheme a proxy shows) and listed origins', async () => {
    const own = { origin: 'http://site.example', 'sec-fetch-site': 'same-origin' };
    expect((await post('/subscriptions', { subscription: victim }, own)).status).toBe(201);
    serve({ allowedOrigins: ['https://app.example'] });
    const other = { ...victim, endpoint: `${endpoint}-2`, keys: newKeys() };
    expect((await post('/subscriptions', { subscription: other }, { origin: 'https://app.example', 'sec-fetch-site': 'cross-site' })).status).toBe(201);
  });

  it('accepts an Origin matching the Host header when the framework rewrote the URL (Next.js)', async () => {
    const request = new Request('http://localhost:3000/api/push/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', host: 'site.example', origin: 'https://site.example', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ subscription: victim }),
    });
    expect((await server.handler(request)).status).toBe(201);
    const forged = new Request('http://localhost:3000/api/push/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', host: 'site.example', origin: 'https://evil.example' },
      body: JSON.stringify({ subscription: { ...victim, endpoint: `${endpoint}-x`, keys: newKeys() } }),
    });
    expect((await server.handler(forged)).status).toBe(403);
  });

  it('refuses allowedOrigins that are not origins', () => {
    expect(() => createPushServer({ vapid, store, allowedOrigins: ['https://app.example/path'] })).toThrow(
      expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'allowedOrigins' }) }),
    );
  });
});

describe('events are bounded: per client over time, and in storage', () => {
  const batch = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({ id: `e${from + i}`, type: 'shown', at: Date.now() }));

  it('answers 429 with Retry-After once a client has posted its allowance, and keeps other clients apart', async () => {
    serve({ eventsPerMinute: 150 });
    const flood = { clientAddress: '203.0.113.7' };
    expect((await post('/events', { events: batch(0, 100) }, {}, flood)).status).toBe(202);
    const refused = await post('/events', { events: batch(100, 100) }, {}, flood);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((await post('/events', { events: batch(200, 100) }, {}, { clientAddress: '198.51.100.1' })).status).toBe(202);
    expect(await store.listEvents({ limit: 10_000 })).toHaveLength(200);
  });

  it('uses clientKey to name the client when the site says how', async () => {
    serve({ eventsPerMinute: 100, clientKey: (request) => request.headers.get('x-client') ?? 'none' });
    expect((await post('/events', { events: batch(0, 100) }, { 'x-client': 'a' })).status).toBe(202);
    expect((await post('/events', { events: batch(100, 1) }, { 'x-client': 'a' })).status).toBe(429);
    expect((await post('/events', { events: batch(200, 1) }, { 'x-client': 'b' })).status).toBe(202);
  });

  it('deletes events older than eventRetentionDays from the store', async () => {
    serve({ eventRetentionDays: 2 });
    const day = 86_400_000;
    await store.addEvents([
      { id: 'old', type: 'shown', at: Date.now() - 3 * day },
      { id: 'recent', type: 'shown', at: Date.now() - day },
    ]);
    expect((await post('/events', { events: batch(0, 1) })).status).toBe(202);
    expect((await store.listEvents()).map((event) => event.id).sort()).toEqual(['e0', 'recent']);
  });
});

describe('what is stored is checked', () => {
  it('refuses a p256dh that has the right shape but is no point on P-256', async () => {
    const notAPoint = toBase64Url(Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : i)));
    const response = await post('/subscriptions', { subscription: { ...victim, keys: { ...victim.keys, p256dh: notAPoint } } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ field: 'subscription.keys.p256dh', reason: 'not-p256-point' });
    const sealed = await post('/subscriptions', { subscription: victim, sealKey: { ...victim.keys, p256dh: notAPoint } });
    expect(await sealed.json()).toMatchObject({ field: 'sealKey.p256dh', reason: 'not-p256-point' });
    expect(await store.findSubscriptions()).toEqual([]);
  });

  it.each([
    ['NUL', 'en\u0000'],
    ['an escape sequence', '\u001b[31mred'],
    ['DEL', 'a\u007f'],
    ['a C1 control', 'a\u0085'],
    ['a lone high surrogate', 'a\ud800'],
    ['a lone low surrogate', '\udc00b'],
  ])('refuses an attribute value with %s', async (_name, lang) => {
    const response = await post('/subscriptions', { subscription: victim, attributes: { lang } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ field: 'attributes.lang', reason: 'control-or-lone-surrogate' });
  });

  it('keeps an attribute value with a well-formed surrogate pair (emoji)', async () => {
    expect((await post('/subscriptions', { subscription: victim, attributes: { lang: 'en 🎉' } })).status).toBe(201);
  });
});

describe('toNodeHandler', () => {
  let http: Server;
  afterEach(() => new Promise((done) => http.close(done)));

  async function rawRequest(text: string): Promise<string> {
    const { port } = http.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(text));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  it('answers 400 JSON, not an empty 500, to a Host header that is not a host', async () => {
    http = createServer(toNodeHandler(server.handler));
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
    for (const host of ['a b', 'x/y', 'user@site.example', '[zz']) {
      const answer = await rawRequest(`GET /api/push/messages/x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(answer, host).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer, host).toContain('"field":"host"');
    }
    const good = await rawRequest('GET /api/push/messages/x HTTP/1.1\r\nHost: site.example:8080\r\nConnection: close\r\n\r\n');
    expect(good).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('rate-limits events by the peer address', async () => {
    serve({ eventsPerMinute: 1 });
    http = createServer(toNodeHandler(server.handler));
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
    const { port } = http.address() as AddressInfo;
    const send = (id: string) =>
      fetch(`http://127.0.0.1:${port}/api/push/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: [{ id, type: 'shown', at: Date.now() }] }),
      });
    expect((await send('a')).status).toBe(202);
    expect((await send('b')).status).toBe(429);
  });
});
