import { createECDH } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as serveHono } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiter } from '../../../src/server/http/createRateLimiter.js';
import { createPushServer, generateVapidKeys, memoryStore, type PushServerOptions, type SubscriptionStore } from '../../../src/server/index.js';
import { toBase64Url } from '../../../src/shared/base64url.js';

// Rate limits are only worth their key: a client that can mint keys (an X-Forwarded-For
// it writes, the 2^64 addresses of its IPv6 /64, a bucket forgotten under a flood of
// keys) has no limit, and a key every client shares (a mount that passes no address)
// makes one client everyone's limit. Through the handler, with the peer address as
// toNodeHandler and the recipes pass it.
const base = 'https://site.example/api/push';
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let store: SubscriptionStore;
let push: ReturnType<typeof createPushServer>;
let onError: ReturnType<typeof vi.fn<(error: unknown) => void>>;
function serve(options: Partial<PushServerOptions> = {}) {
  onError = vi.fn<(error: unknown) => void>();
  push = createPushServer({ vapid, store, pushServices: ['push.example.net'], onError, ...options });
}
beforeEach(() => {
  store = memoryStore();
  serve();
});

let seq = 0;
const events = (count: number) => Array.from({ length: count }, () => ({ id: `e${seq++}`, type: 'shown', at: Date.now() }));
function post(path: string, body: unknown, peer?: string, headers: Record<string, string> = {}): Promise<Response> {
  const request = new Request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return push.handler(request, peer === undefined ? undefined : { clientAddress: peer });
}
const postEvents = (count: number, peer?: string, headers?: Record<string, string>) => post('/events', { events: events(count) }, peer, headers);
const registration = (n: number) => ({
  subscription: {
    endpoint: `https://push.example.net/wpush/v2/junk-${n}`,
    expirationTime: null,
    keys: { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(new Uint8Array(16).fill(n % 256)) },
  },
});

describe('the events limit is keyed on what a client cannot mint', () => {
  it('ignores an X-Forwarded-For the client wrote: 10,000 events a minute from one peer get 1,200 through', async () => {
    let accepted = 0;
    for (let i = 0; i < 100; i++) {
      const response = await postEvents(100, '203.0.113.7', { 'x-forwarded-for': `198.51.100.${i}` });
      if (response.status === 202) accepted += 100;
      else expect(response.status).toBe(429);
    }
    expect(accepted).toBe(1200);
    expect((await postEvents(1, '203.0.113.8')).status).toBe(202);
  });

  it('counts an IPv6 /64 as one client, however its addresses are spelled', async () => {
    serve({ eventsPerMinute: 100 });
    expect((await postEvents(50, '2001:db8:1:2::1')).status).toBe(202);
    expect((await postEvents(50, '2001:0DB8:0001:0002:ffff:ffff:ffff:fffe')).status).toBe(202);
    for (const peer of ['2001:db8:1:2::3', '[2001:db8:1:2:0:0:0:4]', '2001:db8:1:2::5%eth0']) expect((await postEvents(1, peer)).status).toBe(429);
    // The next /64 is another client.
    expect((await postEvents(100, '2001:db8:1:3::1')).status).toBe(202);
  });

  it('counts an IPv4-mapped IPv6 peer (a dual-stack server) as its IPv4 address', async () => {
    serve({ eventsPerMinute: 100 });
    expect((await postEvents(100, '::ffff:203.0.113.9')).status).toBe(202);
    expect((await postEvents(1, '203.0.113.9')).status).toBe(429);
  });

  it('with trustProxy: 1, takes the address the proxy appended, not what the client wrote before it', async () => {
    serve({ eventsPerMinute: 100, trustProxy: 1 });
    expect((await postEvents(100, '10.0.0.1', { 'x-forwarded-for': 'spoof-1, 198.51.100.5' })).status).toBe(202);
    for (const spoof of ['1.2.3.4', '5.6.7.8, 9.9.9.9', 'nonsense']) {
      expect((await postEvents(1, '10.0.0.1', { 'x-forwarded-for': `${spoof}, 198.51.100.5` })).status).toBe(429);
    }
    // Another client behind the same proxy has its own allowance.
    expect((await postEvents(100, '10.0.0.1', { 'x-forwarded-for': '198.51.100.6' })).status).toBe(202);
  });

  it('with trustProxy as CIDR ranges, walks past the trusted proxies only, and trusts no header from elsewhere', async () => {
    serve({ eventsPerMinute: 100, trustProxy: ['10.0.0.0/8', 'fd00::/8'] });
    expect((await postEvents(100, '10.0.0.1', { 'x-forwarded-for': '1.1.1.1, 198.51.100.5, 10.9.9.9' })).status).toBe(202);
    // The same client, as another proxy of the site writes it (with its port).
    expect((await postEvents(1, 'fd00::7', { 'x-forwarded-for': '2.2.2.2, 198.51.100.5:4431' })).status).toBe(429);
    expect((await postEvents(100, 'fd00::7', { 'x-forwarded-for': '[2001:db8:9::1]:443, fd00::8' })).status).toBe(202);
    expect((await postEvents(1, '10.0.0.3', { 'x-forwarded-for': '2001:db8:9::2' })).status).toBe(429);
    // A peer that is not a proxy of the site is the client, whatever it claims.
    expect((await postEvents(100, '203.0.113.50', { 'x-forwarded-for': '198.51.100.77' })).status).toBe(202);
    expect((await postEvents(1, '203.0.113.50', { 'x-forwarded-for': '198.51.100.78' })).status).toBe(429);
  });

  it('without a client address, lets no client spend the allowance of all, and says once why', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      serve({ eventsPerMinute: 100, registrationsPerMinute: 1 });
      // Before, every such request shared the key 'anonymous': one client got everyone 429s.
      for (let i = 0; i < 3; i++) expect((await postEvents(100)).status).toBe(202);
      for (let n = 0; n < 3; n++) expect((await post('/subscriptions', registration(40_000 + n))).status).toBe(201);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/no client address.*clientAddress/);
      expect(onError).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('uses clientKey instead when the site names its clients', async () => {
    serve({ eventsPerMinute: 100, clientKey: (request) => request.headers.get('x-user') ?? 'anonymous' });
    expect((await postEvents(100, '203.0.113.1', { 'x-user': 'a' })).status).toBe(202);
    expect((await postEvents(1, '203.0.113.2', { 'x-user': 'a' })).status).toBe(429);
    expect(onError).not.toHaveBeenCalled();
  });

  it.each([0, -1, 1.5, 21, 'yes', true, [], ['10.0.0.0/33'], ['10.0.0.0/8/1'], ['not-an-address'], [42]].map((value) => ({ value })))('refuses trustProxy $value', ({ value }) => {
    expect(() => createPushServer({ vapid, store, trustProxy: value as never })).toThrow(
      expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'trustProxy' }) }),
    );
  });
});

describe('registrations are limited per client', () => {
  it('lets 60 a minute through from one address (429 with Retry-After past it), and other clients on', async () => {
    const statuses = new Map<number, number>();
    let retryAfter = '';
    const started = Date.now();
    for (let n = 0; n < 3000; n++) {
      const response = await post('/subscriptions', registration(n), '203.0.113.66');
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 429) retryAfter = response.headers.get('retry-after') ?? '';
    }
    // The bucket refills at one a second while the loop runs.
    const refill = Math.ceil((Date.now() - started) / 1000);
    expect(statuses.get(201)).toBeGreaterThanOrEqual(60);
    expect(statuses.get(201)).toBeLessThanOrEqual(60 + refill);
    expect(statuses.get(429)).toBe(3000 - statuses.get(201)!);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await store.findSubscriptions()).length).toBe(statuses.get(201));
    expect((await post('/subscriptions', registration(9000), '198.51.100.1')).status).toBe(201);
    // A whole /64 is one client.
    for (let n = 0; n < 60; n++) await post('/subscriptions', registration(10_000 + n), `2001:db8:5:6::${n.toString(16)}`);
    expect((await post('/subscriptions', registration(10_100), '2001:db8:5:6:abcd::1')).status).toBe(429);
  });

  it('does not trouble a site behind one NAT: 60 browsers registering within a minute all get through', async () => {
    for (let n = 0; n < 60; n++) expect((await post('/subscriptions', registration(20_000 + n), '198.51.100.200')).status).toBe(201);
  });

  it('counts refused bodies too, and can be turned off', async () => {
    serve({ registrationsPerMinute: 2 });
    expect((await post('/subscriptions', { junk: true }, '203.0.113.1')).status).toBe(400);
    expect((await post('/subscriptions', { junk: true }, '203.0.113.1')).status).toBe(400);
    expect((await post('/subscriptions', registration(1), '203.0.113.1')).status).toBe(429);
    serve({ registrationsPerMinute: false });
    for (let n = 0; n < 100; n++) expect((await post('/subscriptions', registration(30_000 + n), '203.0.113.1')).status).toBe(201);
  });
});

describe('the limiter under a flood of keys', () => {
  it('never forgets a client that is still spending, so minting keys resets nothing', () => {
    let time = 0;
    const limiter = createRateLimiter({ limit: 10, windowMs: 60_000 }, () => time);
    expect(limiter.take('attacker', 10)).toBe(0);
    expect(limiter.take('attacker', 1)).toBeGreaterThan(0);
    // An IPv6 /48 holds 65,536 /64s: one key each, within a second.
    let allowed = 0;
    for (let n = 0; n < 65_536; n++) if (limiter.take(`2001:db8:77:${n.toString(16)}::/64`, 10) === 0) allowed++;
    expect(limiter.take('attacker', 1)).toBeGreaterThan(0);
    // The keys past the bound shared one allowance between them.
    expect(allowed).toBeLessThanOrEqual(50_000 + 1);
    // Once buckets have refilled, the oldest are forgotten for new clients.
    time += 60_000;
    expect(limiter.take('newcomer', 10)).toBe(0);
    expect(limiter.take('newcomer', 1)).toBeGreaterThan(0);
  });
});

describe('the Hono recipes pass the client address', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));
  async function listen(app: Hono): Promise<string> {
    server = serveHono({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((done) => (server!.listening ? done() : server!.once('listening', () => done())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const send = (origin: string) =>
    fetch(`${origin}/api/push/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: events(1) }) });

  it('app.all with getConnInfo', async () => {
    serve({ eventsPerMinute: 1 });
    const app = new Hono();
    app.all('/api/push/*', (c) => push.handler(c.req.raw, { clientAddress: getConnInfo(c).remote.address! }));
    const origin = await listen(app);
    expect((await send(origin)).status).toBe(202);
    expect((await send(origin)).status).toBe(429);
    expect(onError).not.toHaveBeenCalled();
  });

  it('app.mount with an optionHandler', async () => {
    serve({ eventsPerMinute: 1, routePath: '' });
    const app = new Hono();
    app.mount('/api/push', push.handler, { optionHandler: (c) => ({ clientAddress: getConnInfo(c).remote.address! }) });
    const origin = await listen(app);
    expect((await send(origin)).status).toBe(202);
    expect((await send(origin)).status).toBe(429);
    expect(onError).not.toHaveBeenCalled();
  });
});
