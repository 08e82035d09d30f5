import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServerOptions } from '../../../src/server/index.js';
import { loopbackOnly, type LoopbackOnly } from '../../support/loopbackOnly.js';
import { newReceiver } from '../../support/receiver.js';
import { certificate, protocols, startPushHost, type Handler, type Protocol } from '../../support/pushHost.js';

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };

interface Hit {
  method: string;
  path: string;
  authorization: string | undefined;
  bytes: number;
}

/** A loopback push service (HTTP/1.1, or HTTP/2 over TLS) that records each request and answers with `answer`. */
async function startServer(protocol: Protocol, answer: (request: Parameters<Handler>[0], response: Parameters<Handler>[1], hit: number) => void) {
  const hits: Hit[] = [];
  const host = await startPushHost(protocol, (request, response) => {
    let bytes = 0;
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      hits.push({ method: request.method!, path: request.url!, authorization: request.headers.authorization, bytes });
      answer(request, response, hits.length);
    });
  });
  return { hits, origin: host.origin, connections: host.connections, close: host.close };
}

type Started = Awaited<ReturnType<typeof startServer>>;
let servers: Started[];
let net: LoopbackOnly;
beforeEach(() => {
  servers = [];
  net = loopbackOnly({});
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.map((server) => server.close()));
  expect(net.stopped).toEqual([]);
});

let protocol: Protocol;
async function server(answer: Parameters<typeof startServer>[1]): Promise<Started> {
  const started = await startServer(protocol, answer);
  servers.push(started);
  return started;
}

async function sendTo(endpoint: string, options: Partial<PushServerOptions> = {}) {
  const store = memoryStore();
  const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, retries: 0, timeout: 3000, ca: certificate.ca, ...options });
  await store.saveSubscription({ subscription: { endpoint, expirationTime: null, keys: (await newReceiver()).keys } });
  return push.send({ v: 1, id: 'm' });
}

describe.each(protocols)('over %s', (which) => {
  beforeEach(() => {
    protocol = which;
  });

  describe('send() follows no redirect it did not expect', () => {
    it.each([301, 302, 303, 307, 308])('fails a %i to another service with its status, and never reaches it', async (status) => {
      const internal = await server((_req, res) => res.writeHead(200).end('{"deleted":"everything"}'));
      const push = await server((_req, res) => res.writeHead(status, { location: `${internal.origin}/admin/delete-all` }).end('moved'));
      const result = await sendTo(`${push.origin}/push`);
      expect(result).toMatchObject({ sent: 0, failed: 1, errors: [{ status, reason: 'redirect: moved' }] });
      expect(internal.hits).toEqual([]);
      expect(push.hits).toHaveLength(1);
      expect(JSON.stringify(result)).not.toContain('deleted');
    });

    it.each([301, 302, 303])('does not follow a %i even on the same push service: it would turn the POST into a GET', async (status) => {
      const push = await server((req, res) => (req.url === '/push' ? res.writeHead(status, { location: '/elsewhere' }).end() : res.writeHead(201).end()));
      const result = await sendTo(`${push.origin}/push`);
      expect(result.errors).toMatchObject([{ status, reason: 'redirect' }]);
      expect(push.hits.map((hit) => hit.path)).toEqual(['/push']);
    });

    it.each([307, 308])('follows a %i to the same push service once, with the same method, body and VAPID token', async (status) => {
      const push = await server((req, res) => (req.url === '/push' ? res.writeHead(status, { location: '/moved?x=1' }).end() : res.writeHead(201).end()));
      const result = await sendTo(`${push.origin}/push`);
      expect(result).toMatchObject({ sent: 1, failed: 0 });
      expect(push.hits.map((hit) => [hit.method, hit.path])).toEqual([
        ['POST', '/push'],
        ['POST', '/moved?x=1'],
      ]);
      expect(push.hits[1]!.bytes).toBe(push.hits[0]!.bytes);
      expect(push.hits[0]!.bytes).toBeGreaterThan(86);
      expect(push.hits[1]!.authorization).toBe(push.hits[0]!.authorization);
    });

    it('follows one 307 only: a second redirect fails with its status', async () => {
      const push = await server((_req, res, hit) => res.writeHead(307, { location: `/hop${hit}` }).end());
      const result = await sendTo(`${push.origin}/push`);
      expect(result.errors).toMatchObject([{ status: 307, reason: 'redirect' }]);
      expect(push.hits.map((hit) => hit.path)).toEqual(['/push', '/hop1']);
    });

    it.each([
      ['another port of the same host', (origin: string) => origin.replace(/:\d+$/, ':1')],
      ['credentials', (origin: string) => origin.replace('//', '//user:pw@')],
      ['another scheme', () => 'gopher://127.0.0.1:6379'],
      ['the metadata service', () => 'http://169.254.169.254'],
    ])('does not follow a 307 to %s', async (_name, target) => {
      const push = await server((_req, res) => res.writeHead(307, { location: `${target(push.origin)}/latest` }).end());
      const result = await sendTo(`${push.origin}/push`);
      expect(result.errors).toMatchObject([{ status: 307, reason: 'redirect' }]);
      expect(push.hits).toHaveLength(1);
    });
  });

  describe('send() reports what a push service said, safely', () => {
    it('keeps the status and a short text with no control characters or terminal escapes', async () => {
      const hostile = '\x1b[2J\x1b]0;pwned\x07bad\r\nInjected: yes\u202e\x00\x9b31m';
      const push = await server((_req, res) => res.writeHead(400).end(hostile));
      const [error] = (await sendTo(`${push.origin}/push`)).errors;
      expect(error).toMatchObject({ status: 400, reason: 'bad Injected: yes 31m' });
      expect(error!.reason).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
    });

    it('cuts a long answer to 200 characters, whole code points', async () => {
      const push = await server((_req, res) => res.writeHead(500).end('😀'.repeat(5000)));
      const [error] = (await sendTo(`${push.origin}/push`)).errors;
      expect(error!.status).toBe(500);
      expect(error!.reason.length).toBeLessThanOrEqual(200);
      expect(error!.reason).toMatch(/^(😀)+…$/u);
    });

    it('names a status with no text', async () => {
      const push = await server((_req, res) => res.writeHead(403).end());
      expect((await sendTo(`${push.origin}/push`)).errors).toMatchObject([{ status: 403, reason: 'HTTP 403' }]);
    });

    it('reuses the connection for the next push when an answer fits the bound', async () => {
      const push = await server((_req, res) => res.writeHead(201).end());
      const store = memoryStore();
      const sender = createPushServer({ vapid, store, allowLoopbackEndpoints: true, concurrency: 1, ca: certificate.ca });
      const first = await store.saveSubscription({ subscription: { endpoint: `${push.origin}/push/first`, expirationTime: null, keys: (await newReceiver()).keys } });
      expect(await sender.send({ v: 1 }, { to: first.id })).toMatchObject({ sent: 1 });
      for (let i = 0; i < 5; i++) {
        await store.saveSubscription({ subscription: { endpoint: `${push.origin}/push/${i}`, expirationTime: null, keys: (await newReceiver()).keys } });
      }
      expect(await sender.send({ v: 1 })).toMatchObject({ sent: 6 });
      expect(push.connections()).toBe(1);
    });
  });
});
