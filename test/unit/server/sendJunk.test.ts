import dns from 'node:dns';
import { createRequire } from 'node:module';
import { createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type WebPush from 'web-push';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServerOptions, type SubscriptionStore } from '../../../src/server/index.js';
import { createCertificate } from '../../../src/testing/index.js';
import { loopbackOnly, type LoopbackOnly } from '../../support/loopbackOnly.js';
import { newReceiver } from '../../support/receiver.js';

// Issue 17, row 6: junk push-service names must not slow or bloat a send. Every name
// here resolves through a stubbed resolver (to loopback, or NXDOMAIN after 25 ms, about
// what a real one takes); every connection stays on loopback.

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const certificate = createCertificate(30, Date.now(), ['*.push.example.net', '*.hosts.example', '*.tarpit.example']);
const webpush = createRequire(import.meta.url)('web-push') as typeof WebPush;
let keys: { p256dh: string; auth: string };
let store: SubscriptionStore;
let net: LoopbackOnly;
let closers: (() => Promise<void>)[];

beforeEach(async () => {
  keys = (await newReceiver()).keys;
  store = memoryStore();
  closers = [];
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(closers.map((close) => close()));
  expect(net.stopped).toEqual([]);
});

/** Stubs DNS: `names` resolve to loopback at once, any other name is NXDOMAIN after `delay` ms. */
function resolver(names: (hostname: string) => boolean, delay = 25): void {
  net = loopbackOnly({});
  const lookup = vi.mocked(dns.lookup).getMockImplementation()!;
  vi.mocked(dns.lookup).mockImplementation(((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    if (names(hostname)) {
      net.resolved.push(hostname);
      return process.nextTick(() => callback(null, [{ address: '127.0.0.1', family: 4 }]));
    }
    setTimeout(() => (lookup as (...args: unknown[]) => void)(hostname, options, callback), delay);
  }) as unknown as typeof dns.lookup);
}

/** An https push service on loopback for every name the certificate covers: 201 to each push; counts connections. */
async function pushService(protocol: 'HTTP/1.1' | 'HTTP/2' = 'HTTP/1.1'): Promise<{ port: number; open: () => number; connections: () => number; hits: () => number }> {
  let hits = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  const onRequest = (request: import('node:http').IncomingMessage | import('node:http2').Http2ServerRequest, response: { writeHead(status: number): { end(): void } }) => {
    hits++;
    request.resume();
    request.on('end', () => response.writeHead(201).end());
  };
  const tls = { cert: certificate.cert, key: certificate.key };
  const server = protocol === 'HTTP/2' ? createSecureServer({ ...tls, allowHTTP1: false }, onRequest) : createHttpsServer(tls, onRequest);
  server.on('secureConnection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, open: () => sockets.size, connections: () => connections, hits: () => hits };
}

/** Accepts connections and never says a word (a TLS handshake to it hangs). */
async function tarpit(): Promise<{ port: number; connections: () => number }> {
  const sockets: Socket[] = [];
  const server = createTcpServer((socket) => {
    sockets.push(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => sockets.length };
}

function pushServer(options: Partial<PushServerOptions>) {
  // Loopback stands in for the public addresses these names would have.
  return createPushServer({ vapid, store, ca: certificate.ca, allowLoopbackEndpoints: true, ...options });
}

async function subscribe(endpoints: string[]): Promise<void> {
  for (const endpoint of endpoints) await store.saveSubscription({ subscription: { endpoint, expirationTime: null, keys } });
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

const range = (count: number) => Array.from({ length: count }, (_, i) => i);

describe('junk push-service names (issue 17, row 6)', () => {
  it('2,000 names under a push service that do not exist cost a send a few lookups, no encryption, no retries, and the service’s working host goes on', async () => {
    resolver((name) => name === 'web.push.example.net');
    const service = await pushService();
    const server = pushServer({ pushServices: [`*.push.example.net:${service.port}`], retries: 2, maxRetryDelay: 1000 });
    const real = range(20).map((i) => `https://web.push.example.net:${service.port}/push/${i}`);
    await subscribe(real);
    const [alone, baseline] = await timed(() => server.send({ v: 1 }));
    expect(alone).toMatchObject({ sent: 20, failed: 0 });

    // Registered by anyone: random names under the same push service, interleaved with the real ones.
    await subscribe(range(2000).map((i) => `https://${i.toString(36)}x${Math.random().toString(36).slice(2)}.push.example.net:${service.port}/push/${i}`));
    const signatures = vi.spyOn(webpush, 'getVapidHeaders');
    const lookups = net.resolved.length;
    const [result, elapsed] = await timed(() => server.send({ v: 1 }));
    console.info(`2,000 NXDOMAIN names: send ${Math.round(elapsed)} ms against ${Math.round(baseline)} ms without them, ${net.resolved.length - lookups} lookups`);
    expect(result).toMatchObject({ sent: 20, failed: 2000 });
    const reasons = new Set(result.errors.map((error) => error.reason));
    expect([...reasons].sort()).toEqual(['circuit-open', 'dns: ENOTFOUND']);
    // Before: 6,000 lookups (three attempts each) and 45.9 s. Now a name is looked up at
    // most once, and after a few the push service is closed to names it never answered for.
    expect(net.resolved.length - lookups).toBeLessThanOrEqual(40);
    expect(elapsed - baseline).toBeLessThan(3000);
    // Nothing was encrypted or signed for a name that does not resolve.
    expect(signatures).not.toHaveBeenCalled();
    expect(service.hits()).toBe(40);

    // Within the cool-down the same junk costs no lookup at all.
    const again = net.resolved.length;
    expect(await server.send({ v: 1 })).toMatchObject({ sent: 20, failed: 2000 });
    expect(net.resolved.length - again).toBeLessThanOrEqual(1);
  }, 30_000);

  it.each(['HTTP/1.1', 'HTTP/2'] as const)('over %s, leaves at most 256 idle connections across 300 push-service hosts, and closes them when idle', async (protocol) => {
    resolver((name) => name.endsWith('.hosts.example'));
    const service = await pushService(protocol);
    const server = pushServer({ pushServices: [`*.hosts.example:${service.port}`], idleTimeout: 400 });
    await subscribe(range(300).map((i) => `https://h${i}.hosts.example:${service.port}/push/${i}`));
    const [hosts, hostsMs] = await timed(() => server.send({ v: 1 }));
    console.info(`300 hosts: ${Math.round(hostsMs)} ms`);
    expect(hosts).toMatchObject({ sent: 300, failed: 0 });
    expect(service.connections()).toBeGreaterThanOrEqual(300);
    // Before: one kept-alive socket per host, for good.
    await vi.waitFor(() => expect(service.open()).toBeLessThanOrEqual(256));
    await vi.waitFor(() => expect(service.open()).toBe(0), { timeout: 3000 });
  }, 30_000);

  it('100 hanging hosts cost a send about what one does, and do not hold up a working host', async () => {
    resolver((name) => name.endsWith('.tarpit.example') || name.endsWith('.push.example.net'));
    const pit = await tarpit();
    const service = await pushService();
    const working = range(200).map((i) => `https://web.push.example.net:${service.port}/push/${i}`);
    const oneHost = range(100).map((i) => `https://hang.tarpit.example:${pit.port}/push/${i}`);
    // A push service per host (as with pushServices: 'any' and a domain each), five subscriptions each.
    const manyHosts = range(500).map((i) => `https://h${i % 100}.s${i % 100}.tarpit.example:${pit.port}/push/${i}`);
    const options = (extra: string[]) => ({
      timeout: 800,
      retries: 2,
      maxRetryDelay: 100,
      pushServices: [`*.push.example.net:${service.port}`, ...extra],
    });

    await subscribe([...oneHost, ...working]);
    const [one, oneMs] = await timed(() => pushServer(options([`hang.tarpit.example:${pit.port}`])).send({ v: 1 }));
    expect(one).toMatchObject({ sent: 200, failed: 100 });

    store = memoryStore();
    await subscribe([...manyHosts, ...working]);
    const groups = range(100).map((i) => `*.s${i}.tarpit.example:${pit.port}`);
    const [many, manyMs] = await timed(() => pushServer(options(groups)).send({ v: 1 }));
    console.info(`hanging hosts, 800 ms timeout: 1 host ${Math.round(oneMs)} ms, 100 hosts ${Math.round(manyMs)} ms`);
    expect(many).toMatchObject({ sent: 200, failed: 500 });
    expect(many.errors.filter((error) => error.reason === 'timeout')).toHaveLength(100);
    // Before: 62.8 s against 10.5 s (10 s timeout). Each host gets one attempt and one check, all at once.
    expect(manyMs).toBeLessThan(1.5 * oneMs + 500);
  }, 30_000);
});
