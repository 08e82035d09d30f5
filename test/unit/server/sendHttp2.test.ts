import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServerOptions, type SubscriptionStore } from '../../../src/server/index.js';
import { loopbackOnly, type LoopbackOnly } from '../../support/loopbackOnly.js';
import { certificate, startPushHost, type PushHost } from '../../support/pushHost.js';
import { newReceiver } from '../../support/receiver.js';

// Issue 22: the HTTP/2 transport against a hostile HTTP/2 server. Every stream a server
// answered is recorded by path, so "delivered once" can be told from "delivered twice".

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR } = http2.constants;
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let keys: { p256dh: string; auth: string };
let store: SubscriptionStore;
let net: LoopbackOnly;
let hosts: { close(): Promise<void> }[];
beforeEach(async () => {
  keys = (await newReceiver()).keys;
  store = memoryStore();
  net = loopbackOnly({});
  hosts = [];
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(hosts.map((host) => host.close()));
  expect(net.stopped).toEqual([]);
});

type Request = Http2ServerRequest;
type Response = Http2ServerResponse;

/** An HTTP/2-only push service; `answer` may leave a stream hanging. Counts what it answered, per path. */
async function h2Host(answer: (request: Request, response: Response, stream: number) => void, settings: { maxConcurrentStreams?: number } = {}) {
  const delivered = new Map<string, number>();
  let streams = 0;
  let active = 0;
  let mostActive = 0;
  const host: PushHost = await startPushHost(
    'HTTP/2',
    (request, response) => {
      const req = request as Request;
      active++;
      mostActive = Math.max(mostActive, active);
      req.stream.once('close', () => active--);
      req.stream.on('error', () => {});
      req.resume();
      req.on('end', () => answer(req, response as Response, ++streams));
    },
    settings,
  );
  hosts.push(host);
  const ok = (request: Request, response: Response, status = 201) => {
    delivered.set(request.url, (delivered.get(request.url) ?? 0) + 1);
    response.writeHead(status).end();
  };
  return { ...host, delivered, ok, streams: () => streams, mostActive: () => mostActive };
}

async function subscribe(origin: string, count: number): Promise<string[]> {
  const paths = Array.from({ length: count }, (_, i) => `/push/${i}`);
  for (const path of paths) await store.saveSubscription({ subscription: { endpoint: origin + path, expirationTime: null, keys } });
  return paths;
}

function pushServer(options: Partial<PushServerOptions> = {}) {
  return createPushServer({ vapid, store, allowLoopbackEndpoints: true, ca: certificate.ca, retries: 2, maxRetryDelay: 20, ...options });
}

describe('the HTTP/2 transport against a hostile server', () => {
  it('carries a whole send on one session, as many streams at once as the server allows', async () => {
    const host = await h2Host((request, response) => setTimeout(() => host.ok(request, response), 2));
    const paths = await subscribe(host.origin, 60);
    expect(await pushServer({ concurrency: 20 }).send({ v: 1 })).toMatchObject({ sent: 60, failed: 0 });
    expect(host.connections()).toBe(1);
    expect(host.mostActive()).toBeGreaterThan(5);
    expect([...host.delivered.keys()].sort()).toEqual(paths.sort());
  });

  it('reads each short answer to its end instead of resetting the stream: 2,500 pushes, one session, none twice', async () => {
    // A RST_STREAM after every answer is what the HTTP/2 "rapid reset" attack looks like:
    // servers (nghttp2's rate limit here) answer it with GOAWAY, and the pushes in flight
    // then fail and go again: 348 of 20,000 arrived twice before this.
    const host = await h2Host((request, response) => host.ok(request, response));
    const paths = await subscribe(host.origin, 2500);
    expect(await pushServer({ concurrency: 50, retries: 2 }).send({ v: 1 })).toMatchObject({ sent: 2500, failed: 0 });
    expect(host.connections()).toBe(1);
    for (const path of paths) expect(host.delivered.get(path)).toBe(1);
  }, 30_000);

  it('keeps to SETTINGS_MAX_CONCURRENT_STREAMS 1: one stream at a time, everything delivered', async () => {
    const host = await h2Host((request, response) => setTimeout(() => host.ok(request, response), 2), { maxConcurrentStreams: 1 });
    await subscribe(host.origin, 30);
    expect(await pushServer({ concurrency: 10 }).send({ v: 1 })).toMatchObject({ sent: 30, failed: 0 });
    expect(host.mostActive()).toBe(1);
    expect(host.connections()).toBe(1);
  });

  it('sends again, on a new session and once only, what a GOAWAY in the middle of a send turned away', async () => {
    let last = 0;
    let closing: unknown;
    const host = await h2Host((request, response, stream) => {
      if (stream === 5) {
        // Streams after this one are not processed: the client must send them again elsewhere.
        last = request.stream.id!;
        closing = request.stream.session;
        request.stream.session!.goaway(0, last);
      }
      if (request.stream.session === closing && request.stream.id! > last) return;
      host.ok(request, response);
    });
    const paths = await subscribe(host.origin, 40);
    const result = await pushServer({ concurrency: 10, retries: 0 }).send({ v: 1 });
    expect(result).toMatchObject({ sent: 40, failed: 0 });
    expect(host.connections()).toBeGreaterThanOrEqual(2);
    for (const path of paths) expect(host.delivered.get(path)).toBe(1);
  });

  it('sends a refused stream again at once, and retries a reset one as a failure of that push', async () => {
    const reset = new Set<string>();
    const refused = new Map<string, number>();
    const host = await h2Host((request, response) => {
      // A third of the pushes refused, twice each.
      if (Number(request.url.split('/').pop()) % 3 === 0 && (refused.get(request.url) ?? 0) < 2) {
        refused.set(request.url, (refused.get(request.url) ?? 0) + 1);
        return request.stream.close(NGHTTP2_REFUSED_STREAM);
      }
      if (request.url.endsWith('7') && !reset.has(request.url)) {
        reset.add(request.url);
        return request.stream.close(NGHTTP2_INTERNAL_ERROR);
      }
      host.ok(request, response);
    });
    const paths = await subscribe(host.origin, 30);
    // No retries: a refused stream is sent again anyway (it was never processed); a reset one fails.
    const strict = await pushServer({ concurrency: 5, retries: 0 }).send({ v: 1 });
    expect(strict.failed).toBe(reset.size);
    expect(strict.errors.every((error) => error.reason.startsWith('network: '))).toBe(true);
    expect(strict.sent).toBe(30 - reset.size);
    expect(refused.size).toBe(10);
    // With retries, the reset ones go again, and everything arrives once.
    reset.clear();
    refused.clear();
    host.delivered.clear();
    const again = await pushServer({ concurrency: 5, retries: 1 }).send({ v: 1 });
    // Seen once under the whole unit suite's load: 29 sent, 1 failed. Its reason, if again.
    expect(again, JSON.stringify(again.errors)).toMatchObject({ sent: 30, failed: 0 });
    for (const path of paths) expect(host.delivered.get(path)).toBe(1);
  });

  it('takes a reset stream from a server that has not answered yet for a live server: retried, not silence', async () => {
    // The first stream of a fresh session is reset (RST_STREAM INTERNAL_ERROR) before any
    // push was answered. A reset comes from a server that is there: it is retried like a
    // 5xx, even from a host that has not answered yet (silence from such a host is not).
    let first = true;
    const host = await h2Host((request, response) => {
      if (first) {
        first = false;
        return request.stream.close(NGHTTP2_INTERNAL_ERROR);
      }
      host.ok(request, response);
    });
    const [path] = await subscribe(host.origin, 1);
    const result = await pushServer({ retries: 1 }).send({ v: 1 });
    expect(result, JSON.stringify(result.errors)).toMatchObject({ sent: 1, failed: 0 });
    expect(host.delivered.get(path!)).toBe(1);
    expect(host.streams()).toBe(2);
  });

  it('fails an answer with huge headers on its own stream; the session carries the rest', async () => {
    const host = await h2Host((request, response) => {
      if (!request.url.includes('/push/1')) return host.ok(request, response);
      // 40 KB of headers, past the 16 KB the client accepts.
      const headers: Record<string, string> = {};
      for (let i = 0; i < 40; i++) headers[`x-junk-${i}`] = 'j'.repeat(1000);
      response.writeHead(500, headers).end();
    });
    await subscribe(host.origin, 20);
    // Each such stream is reset (ENHANCE_YOUR_CALM), a failure of the host like a 5xx: 11 of
    // them would open the circuit breaker and hold the send for its cool-down, which is
    // another test's; here the breaker waits for more.
    const result = await pushServer({ concurrency: 5, retries: 1, circuitBreakerFailures: 100 }).send({ v: 1 });
    // /push/1 and /push/10../push/19: failed, each with a reason of its own; the others sent.
    expect(result).toMatchObject({ sent: 9, failed: 11 });
    expect(result.errors.every((error) => error.status === undefined && error.reason.startsWith('network: '))).toBe(true);
    expect(host.connections()).toBe(1);
  });

  it('times out a stream that never gets an answer, without taking the session or the host with it', async () => {
    const host = await h2Host((request, response) => (request.url.endsWith('/hang') ? undefined : host.ok(request, response)));
    for (const path of ['/hang', ...Array.from({ length: 20 }, (_, i) => `/push/${i}`)]) {
      await store.saveSubscription({ subscription: { endpoint: host.origin + path, expirationTime: null, keys } });
    }
    const result = await pushServer({ concurrency: 5, retries: 0, timeout: 300 }).send({ v: 1 });
    expect(result).toMatchObject({ sent: 20, failed: 1, errors: [{ reason: 'timeout' }] });
    expect(host.connections()).toBe(1);
  });

  it('replaces a session that goes silent: a PING goes unanswered, the pushes go again on a new one', async () => {
    let silence: (() => void) | undefined;
    const host = await h2Host((request, response, stream) => {
      if (stream === 5) silence?.();
      host.ok(request, response);
    });
    // A TCP relay in front of the host, which can drop a connection on the floor (as a NAT
    // that forgot it does): nothing more passes either way, and nobody is told.
    const sockets: Socket[] = [];
    const relay = createTcpServer((client) => {
      const upstream = connect(Number(new URL(host.origin).port), '127.0.0.1');
      sockets.push(client, upstream);
      let dropped = false;
      silence ??= () => (dropped = true);
      client.on('data', (chunk) => dropped || upstream.write(chunk));
      upstream.on('data', (chunk) => dropped || client.write(chunk));
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    hosts.push({ close: () => new Promise((resolve) => (sockets.forEach((socket) => socket.destroy()), relay.close(() => resolve()))) });
    await subscribe(`https://127.0.0.1:${(relay.address() as AddressInfo).port}`, 20);
    const result = await pushServer({ concurrency: 5, retries: 2, timeout: 400 }).send({ v: 1 });
    expect(result).toMatchObject({ sent: 20, failed: 0 });
    expect(host.connections()).toBe(2);
  }, 20_000);

  it('speaks HTTP/1.1 to an https push service that does not offer h2, and remembers it', async () => {
    const versions: string[] = [];
    const server = createHttpsServer({ cert: certificate.cert, key: certificate.key }, (request, response) => {
      versions.push(request.httpVersion);
      request.resume();
      request.on('end', () => response.writeHead(201).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hosts.push({ close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) });
    await subscribe(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, 10);
    const push = pushServer({ concurrency: 5 });
    expect(await push.send({ v: 1 })).toMatchObject({ sent: 10 });
    expect(await push.send({ v: 1 })).toMatchObject({ sent: 10 });
    expect(new Set(versions)).toEqual(new Set(['1.1']));
  });

  it('speaks HTTP/1.1 only when told so (http2: false)', async () => {
    const host = await h2Host((request, response) => host.ok(request, response));
    await subscribe(host.origin, 3);
    // The HTTP/2-only host refuses HTTP/1.1 at the TLS handshake (no common ALPN protocol).
    const result = await pushServer({ http2: false, retries: 0 }).send({ v: 1 });
    expect(result).toMatchObject({ sent: 0, failed: 3 });
    expect(host.delivered.size).toBe(0);
  });
});
