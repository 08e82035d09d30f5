import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboard, type DashboardOptions } from '../../../src/dashboard/index.js';
import { createPushServer, memoryStore, toFastifyPlugin, toNodeHandler } from '../../../src/server/index.js';
import { vapid } from '../../support/dashboard/dashboardFixture.js';

// The dashboard mounted the way docs/dashboard.md says, through the push routes' own
// adapters, on real servers on loopback: pages, assets, data and a POST under /admin, the
// rest of the app untouched.

let close: () => Promise<void> = async () => {};
afterEach(() => close());

function dashboard(options: Partial<DashboardOptions> = {}) {
  const push = createPushServer({ vapid, store: memoryStore() });
  return createDashboard({ push, basePath: '/admin', authorize: (request) => (request.headers.get('cookie') === 'session=ann' ? 'ann' : null), ...options });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  close = () => new Promise((done) => server.close(() => done()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function exercise(origin: string): Promise<void> {
  const signed = { cookie: 'session=ann' };
  expect((await fetch(`${origin}/admin/messages`)).status).toBe(401);
  const shell = await fetch(`${origin}/admin/messages`, { headers: signed });
  expect(shell.status).toBe(200);
  const html = await shell.text();
  const script = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(html)![1]!;
  const asset = await fetch(`${origin}${script}`, { headers: signed });
  expect(asset.status).toBe(200);
  expect(asset.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
  expect((await fetch(`${origin}${script}`)).status).toBe(401);
  const data = (await (await fetch(`${origin}/admin/api/overview`, { headers: signed })).json()) as { session: { viewer: string } };
  expect(data.session.viewer).toBe('ann');
  const count = await fetch(`${origin}/admin/api/count`, { method: 'POST', headers: { ...signed, 'content-type': 'application/json', origin }, body: '{"to":null}' });
  expect(await count.json()).toEqual({ count: 0 });
  const crossSite = await fetch(`${origin}/admin/api/count`, { method: 'POST', headers: { ...signed, 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{}' });
  expect(crossSite.status).toBe(403);
  expect(await (await fetch(`${origin}/health`)).text()).toBe('ok');
}

describe('mounting the dashboard', () => {
  it('Express: app.use("/admin", toNodeHandler(dashboard.handler)), after express.json()', async () => {
    const app = express();
    app.use(express.json());
    app.use('/admin', toNodeHandler(dashboard().handler));
    app.get('/health', (_req, res) => void res.send('ok'));
    await exercise(await listen(createServer(app)));
  });

  it('Fastify: app.register(toFastifyPlugin(dashboard.handler), { prefix: "/admin" })', async () => {
    const app = Fastify();
    await app.register(toFastifyPlugin(dashboard().handler), { prefix: '/admin' });
    app.get('/health', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    close = () => app.close();
    await exercise(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  });

  it('Hono: app.all("/admin/*") with the raw request, and app.mount with routePath ""', async () => {
    for (const mount of ['all', 'mount'] as const) {
      const app = new Hono();
      if (mount === 'all') {
        const { handler } = dashboard();
        app.all('/admin', (c) => handler(c.req.raw));
        app.all('/admin/*', (c) => handler(c.req.raw));
      } else app.mount('/admin', dashboard({ routePath: '' }).handler);
      app.get('/health', (c) => c.text('ok'));
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
      await new Promise<void>((done) => server.once('listening', done));
      close = () => new Promise((done) => server.close(() => done()));
      await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      await close();
    }
  });

  it('node:http: by path, beside the site', async () => {
    const admin = toNodeHandler(dashboard().handler);
    const server = createServer((req, res) => (req.url?.startsWith('/admin') ? void admin(req, res) : res.end('ok')));
    await exercise(await listen(server));
  });
});
