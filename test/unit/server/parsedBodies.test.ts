import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, toNodeHandler } from '../../../src/server/index.js';

// Under Express, express.json() parses the body before tidings sees it, and toNodeHandler
// turns it back into text. A body 60,000 deep parses (JSON.parse does not recurse) but
// JSON.stringify overflowed the stack on it: a 500, and a log line, per request.
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

async function app(mount: (app: express.Express, handler: ReturnType<typeof toNodeHandler>) => void) {
  const onError = vi.fn();
  const adapterError = vi.fn();
  const push = createPushServer({ vapid, store: memoryStore(), onError });
  const site = express();
  site.use(express.json({ limit: '1mb' }));
  mount(site, toNodeHandler(push.handler, { onError: adapterError }));
  site.post('/app/echo', (req, res) => void res.json({ received: typeof req.body }));
  server = createServer(site);
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, body: string) => fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { post, onError, adapterError };
}
const deepArray = (depth: number) => `{"events":${'['.repeat(depth)}${']'.repeat(depth)}}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('a deep body parsed by express.json() in front of the handler', () => {
  it.each([
    ['arrays', deepArray(60_000)],
    ['objects', deepObject(60_000)],
    ['arrays, 5,000 deep (10 KB, under express.json()’s default limit)', deepArray(5_000)],
  ])('nested %s: 400 too-deep, not a 500, nothing logged', async (_name, body) => {
    const { post, onError, adapterError } = await app((site, handler) => site.use('/api/push', handler));
    for (const path of ['/api/push/events', '/api/push/subscriptions']) {
      const response = await post(path, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'invalid-request', field: 'body', reason: 'too-deep' });
    }
    expect(onError).not.toHaveBeenCalled();
    expect(adapterError).not.toHaveBeenCalled();
  });

  it("leaves the app's own routes their deep bodies when mounted at the root", async () => {
    const { post } = await app((site, handler) => site.use(handler));
    const response = await post('/app/echo', deepObject(60_000));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: 'object' });
    expect((await post('/api/push/events', deepObject(60_000))).status).toBe(400);
  });

  it('still hands on an ordinary parsed body', async () => {
    const { post } = await app((site, handler) => site.use('/api/push', handler));
    const response = await post('/api/push/events', JSON.stringify({ events: [{ id: 'e1', type: 'shown', at: Date.now() }] }));
    expect(response.status).toBe(202);
  });
});
