import { createECDH } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createPushServer,
  generateVapidKeys,
  memoryStore,
  toFastifyPlugin,
  toNodeHandler,
  type PushServerOptions,
  type SubscriptionStore,
} from '../../../src/server/index.js';
import { toBase64Url } from '../../../src/shared/base64url.js';
import { startPushService } from '../../../src/testing/index.js';
import { eventsKey, signEvents } from '../../../src/server/crypto/eventsSignature.js';

declare module 'express-session' {
  interface SessionData {
    userId: string;
  }
}

// Each framework mounted by its own idiom, on a real server on loopback, must serve the
// whole contract under /api/push and leave the app's other routes alone.

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let close: () => Promise<void> = async () => {};
afterEach(() => close());

function pushServer(options: Partial<PushServerOptions> = {}) {
  const store = memoryStore();
  return { store, push: createPushServer({ vapid, store, identify: () => ({ user: 'u1' }), ...options }) };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  close = () => new Promise((done) => server.close(() => done()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Walks the contract through `origin` + `/api/push`, and checks the app's own /health still answers. */
async function exerciseContract(origin: string, store: SubscriptionStore): Promise<void> {
  const subscription = {
    endpoint: `https://fcm.googleapis.com/fcm/send/${Math.random().toString(36).slice(2)}`,
    expirationTime: null,
    keys: { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(new Uint8Array(16).fill(3)) },
  };
  const post = (path: string, body: unknown, type = 'application/json') =>
    fetch(`${origin}/api/push${path}`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });

  const created = await post('/subscriptions', { subscription });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  expect((await post('/subscriptions', { subscription })).status).toBe(200);
  expect((await store.getSubscription(id))?.attributes).toEqual({ user: 'u1' });
  expect((await post('/subscriptions', { subscription }, 'text/plain')).status).toBe(415);
  expect((await post('/events', { events: [{ id: 'e1', type: 'shown', at: Date.now() }] })).status).toBe(202);
  // A signed request verifies over the bytes the worker sent, even where a body parser ran
  // first (its JSON written out again is the same bytes): text with quotes, escapes, non-ASCII.
  const signedBody = JSON.stringify({ subscription: id, events: [{ id: 'e2', type: 'failed', reason: 'caf\u00e9 "x" \\ \u2028 \ud83d\ude00 </script>', at: Date.now() }] });
  const signature = signEvents(eventsKey(subscription.keys.auth)!, signedBody);
  const signedPost = (body: string) =>
    fetch(`${origin}/api/push/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'tidings-signature': signature }, body });
  expect((await signedPost(signedBody)).status).toBe(202);
  expect((await signedPost(signedBody.replace('caf', 'cof'))).status).toBe(403);

  // A large message's pointer is `{basePath}/messages/{key}`: it must be reachable where the browser asks.
  await store.saveMessage('k1', '{"v":1,"id":"m1"}', Date.now() + 60_000);
  const message = await fetch(`${origin}/api/push/messages/k1`);
  expect(message.status).toBe(200);
  expect(await message.json()).toEqual({ v: 1, id: 'm1' });

  expect((await fetch(`${origin}/api/push/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await fetch(`${origin}/api/push/nothing-here`)).status).toBe(404);
  const health = await fetch(`${origin}/health`);
  expect(health.status).toBe(200);
  expect(await health.text()).toBe('ok');
}

describe('Express', () => {
  it("mounts with app.use(path, …) after express.json(), and passes other paths to next()", async () => {
    const { store, push } = pushServer();
    const app = express();
    app.use(express.json());
    app.use('/api/push', toNodeHandler(push.handler));
    app.get('/health', (_req, res) => void res.send('ok'));
    await exerciseContract(await listen(createServer(app)), store);
  });

  it('mounts at the root without swallowing the app', async () => {
    const { store, push } = pushServer();
    const app = express();
    app.use(toNodeHandler(push.handler));
    app.get('/health', (_req, res) => void res.send('ok'));
    await exerciseContract(await listen(createServer(app)), store);
  });

  it('reports an error it cannot answer to onError, and answers 500 JSON, not an empty body', async () => {
    const onError = vi.fn();
    const app = express();
    app.use('/api/push', toNodeHandler(() => Promise.reject(new Error('boom')), { onError }));
    const origin = await listen(createServer(app));
    const response = await fetch(`${origin}/api/push/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'internal' });
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'boom' }));
  });
});

describe('Fastify', () => {
  it('registers as a plugin under a prefix, its JSON parser notwithstanding', async () => {
    const { store, push } = pushServer();
    const app = Fastify();
    await app.register(toFastifyPlugin(push.handler), { prefix: '/api/push' });
    app.get('/health', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    close = () => app.close();
    const { port } = app.server.address() as AddressInfo;
    await exerciseContract(`http://127.0.0.1:${port}`, store);
  });
});

describe('Hono', () => {
  async function serveHono(app: Hono): Promise<string> {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((done) => (server.listening ? done() : server.once('listening', () => done())));
    close = () => new Promise((done) => server.close(() => done()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('serves through app.all(path/*) with the raw request', async () => {
    const { store, push } = pushServer();
    const app = new Hono();
    app.all('/api/push/*', (c) => push.handler(c.req.raw));
    app.get('/health', (c) => c.text('ok'));
    await exerciseContract(await serveHono(app), store);
  });

  it('serves through app.mount, which strips the prefix, with routePath', async () => {
    const { store, push } = pushServer({ routePath: '' });
    const app = new Hono();
    app.mount('/api/push', push.handler);
    app.get('/health', (c) => c.text('ok'));
    await exerciseContract(await serveHono(app), store);
  });

  it('serves through app.route of a sub-app', async () => {
    const { store, push } = pushServer();
    const api = new Hono();
    api.all('/*', (c) => push.handler(c.req.raw));
    const app = new Hono();
    app.route('/api/push', api);
    app.get('/health', (c) => c.text('ok'));
    await exerciseContract(await serveHono(app), store);
  });
});

describe('node:http', () => {
  it('serves the contract and lets the site answer the rest', async () => {
    const { store, push } = pushServer();
    const api = toNodeHandler(push.handler);
    const server = createServer((req, res) => {
      if (req.url === '/health') return void res.end('ok');
      void api(req, res);
    });
    await exerciseContract(await listen(server), store);
  });
});

describe('a proxy that strips a prefix', () => {
  it('routes on routePath and still points fetch URLs at the public basePath', async () => {
    const service = await startPushService();
    try {
      const { store, push } = pushServer({ basePath: '/api/push', routePath: '', allowLoopbackEndpoints: true });
      const subscription = await service.subscribe(vapid.publicKey);
      await store.saveSubscription({ subscription });
      // Too large to push: stored, and a pointer pushed instead.
      const result = await push.send({ v: 1, id: 'big', data: 'x'.repeat(5000) });
      expect(result.sent).toBe(1);
      const [pushed] = await service.received(subscription.endpoint);
      const pointer = (JSON.parse(pushed!) as { fetch: string }).fetch;
      expect(pointer).toMatch(/^\/api\/push\/messages\//);
      // The proxy forwards /api/push/x as /x: the handler sees the short path.
      const stripped = pointer.slice('/api/push'.length);
      const response = await push.handler(new Request(`http://backend.internal${stripped}`));
      expect(response.status).toBe(200);
      expect(((await response.json()) as { id: string }).id).toBe('big');
    } finally {
      await service.close();
    }
  });
});

describe("identify gets the framework's own request as its context", () => {
  const subscription = () => ({
    endpoint: `https://fcm.googleapis.com/fcm/send/${Math.random().toString(36).slice(2)}`,
    expirationTime: null,
    keys: { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(new Uint8Array(16).fill(5)) },
  });
  const register = (origin: string, cookie?: string) =>
    fetch(`${origin}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ subscription: subscription() }),
    });

  it('Express 5 with express-session: identify reads req.session, as docs/security.md shows', async () => {
    const store = memoryStore();
    // The worked example of docs/security.md, with a login route standing in for the site's own.
    const app = express();
    app.use(session({ secret: 'a test secret', resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax' } }));
    app.post('/login', (req, res) => {
      req.session.userId = 'u42';
      res.send('ok');
    });
    const push = createPushServer({
      vapid,
      store,
      identify: (_request, { req }) => {
        const { session } = req as express.Request;
        return session.userId ? { user: session.userId } : undefined;
      },
    });
    app.use('/api/push', toNodeHandler(push.handler));
    const origin = await listen(createServer(app));

    const login = await fetch(`${origin}/login`, { method: 'POST' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).toMatch(/^connect\.sid=/);
    const signedIn = await register(origin, cookie);
    expect(signedIn.status).toBe(201);
    const { id } = (await signedIn.json()) as { id: string };
    expect((await store.getSubscription(id))?.attributes).toEqual({ user: 'u42' });
    // No session cookie: anonymous. A forged one: anonymous too (express-session checks its signature).
    const anonymous = (await (await register(origin)).json()) as { id: string };
    expect((await store.getSubscription(anonymous.id))?.attributes).toEqual({});
    const forged = (await (await register(origin, cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).json()) as { id: string };
    expect((await store.getSubscription(forged.id))?.attributes).toEqual({});
    expect(await push.count({ attributes: { user: 'u42' } })).toBe(1);
  });

  it('toNodeHandler passes { req, res } under node:http too', async () => {
    const seen: unknown[] = [];
    const { push } = pushServer({
      identify: (_request, context) => {
        seen.push(context.res);
        return { user: String(context.req?.headers['x-user']) };
      },
    });
    const origin = await listen(createServer(toNodeHandler(push.handler)));
    const response = await fetch(`${origin}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'from-node' },
      body: JSON.stringify({ subscription: subscription() }),
    });
    expect(response.status).toBe(201);
    expect(seen[0]).toHaveProperty('writeHead');
  });

  it("Fastify: identify gets { request, reply }, with what the app's hooks put on the request", async () => {
    const store = memoryStore();
    const push = createPushServer({ vapid, store, identify: (_request, { request }) => ({ user: String(request?.user) }) });
    const app = Fastify();
    app.decorateRequest('user', '');
    app.addHook('onRequest', async (request) => {
      (request as unknown as { user: string }).user = String(request.headers['x-user']);
    });
    await app.register(toFastifyPlugin(push.handler), { prefix: '/api/push' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    close = () => app.close();
    const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const response = await fetch(`${origin}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'from-fastify' },
      body: JSON.stringify({ subscription: subscription() }),
    });
    expect(response.status).toBe(201);
    expect(await push.count({ attributes: { user: 'from-fastify' } })).toBe(1);
  });

  it("Hono: the route passes its own context as push.handler(c.req.raw, { context: { c } })", async () => {
    const store = memoryStore();
    const push = createPushServer({
      vapid,
      store,
      identify: (_request, { c }) => ({ user: (c as { get(key: 'user'): string }).get('user') }),
    });
    const app = new Hono<{ Variables: { user: string } }>();
    app.use(async (c, next) => {
      c.set('user', c.req.header('x-user') ?? 'nobody');
      await next();
    });
    app.all('/api/push/*', (c) => push.handler(c.req.raw, { context: { c } }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((done) => (server.listening ? done() : server.once('listening', () => done())));
    close = () => new Promise((done) => server.close(() => done()));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const response = await fetch(`${origin}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'from-hono' },
      body: JSON.stringify({ subscription: subscription() }),
    });
    expect(response.status).toBe(201);
    expect(await push.count({ attributes: { user: 'from-hono' } })).toBe(1);
  });
});
