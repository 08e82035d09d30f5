import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServerOptions } from '../../../src/server/index.js';
import { createFetchTransport } from '../../../src/server/send/transport/createFetchTransport.js';
import { ANSWER_BYTES } from '../../../src/server/send/transport/Transport.js';
import { runtimeName } from '../../../src/server/common/runtimeName.js';
import { startPushService } from '../../../src/testing/index.js';
import { loopbackOnly, type LoopbackOnly } from '../../support/loopbackOnly.js';
import { newReceiver } from '../../support/receiver.js';
import { startPushHost, type Handler, type PushHost } from '../../support/pushHost.js';

// The fetch transport (workerd's, and anyone's with `transport: 'fetch'`), in Node against
// real loopback servers: the rules it shares with the Node transport hold here too.
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };

let hosts: PushHost[];
let net: LoopbackOnly;
beforeEach(() => {
  hosts = [];
  net = loopbackOnly({});
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(hosts.map((host) => host.close()));
  expect(net.stopped).toEqual([]);
});

async function host(handler: Handler): Promise<PushHost & { paths: string[] }> {
  const paths: string[] = [];
  const started = await startPushHost('HTTP/1.1', (request, response) => {
    paths.push(request.url!);
    request.resume();
    request.on('end', () => handler(request, response));
  });
  hosts.push(started);
  return Object.assign(started, { paths });
}

/** An answer whose body never ends: a KB every 5 ms until the client goes. */
function endless(res: ServerResponse, status: number, char: string): void {
  res.writeHead(status);
  const timer = setInterval(() => res.write(char.repeat(1024)), 5);
  res.on('close', () => clearInterval(timer));
}

async function sendTo(endpoint: string, options: Partial<PushServerOptions> = {}) {
  const store = memoryStore();
  const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, retries: 0, timeout: 3000, transport: 'fetch', ...options });
  await store.saveSubscription({ subscription: { endpoint, expirationTime: null, keys: (await newReceiver()).keys } });
  return push.send({ v: 1, id: 'm' });
}

describe("send() with transport: 'fetch'", () => {
  it('delivers to the local push service, which decrypts it', async () => {
    const service = await startPushService();
    try {
      const push = createPushServer({ vapid, store: memoryStore(), allowLoopbackEndpoints: true, transport: 'fetch' });
      const subscription = await service.subscribe(vapid.publicKey);
      await push.handler(new Request('https://site.example/api/push/subscriptions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscription }) }), { clientAddress: '127.0.0.1' });
      expect(await push.send({ v: 1, notification: { title: 'Over fetch' } })).toMatchObject({ sent: 1, failed: 0 });
      expect((await service.received(subscription.endpoint)).map((text) => JSON.parse(text))).toMatchObject([{ notification: { title: 'Over fetch' } }]);
    } finally {
      await service.close();
    }
  });

  it.each([301, 302, 303, 307, 308])('does not follow a %i to another service: it fails with the status, and the target is never reached', async (status) => {
    const internal = await host((_req, res) => res.writeHead(200).end('{"deleted":"everything"}'));
    const push = await host((_req, res) => res.writeHead(status, { location: `${internal.origin}/admin/delete-all` }).end('moved'));
    const result = await sendTo(`${push.origin}/push`);
    expect(result).toMatchObject({ sent: 0, failed: 1, errors: [{ status, reason: 'redirect: moved' }] });
    expect(internal.paths).toEqual([]);
  });

  it('follows a 307 to the same push service once, as the Node transport does', async () => {
    const push = await host((req, res) => (req.url === '/push' ? res.writeHead(307, { location: '/moved' }).end() : res.writeHead(201).end()));
    expect(await sendTo(`${push.origin}/push`)).toMatchObject({ sent: 1 });
    expect(push.paths).toEqual(['/push', '/moved']);
  });

  it('reads at most 512 bytes of an answer that never ends, and gives its start as the reason', async () => {
    const push = await host((_req, res) => endless(res as ServerResponse, 500, 'x'));
    const started = Date.now();
    const [error] = (await sendTo(`${push.origin}/push`, { timeout: 10_000 })).errors;
    expect(error).toMatchObject({ status: 500 });
    expect(error!.reason).toMatch(/^x+…?$/);
    // Answered long before the timeout: the body was not read to its (missing) end.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('takes a 2xx at its headers, whatever its body does', async () => {
    const push = await host((_req, res) => endless(res as ServerResponse, 201, 'y'));
    expect(await sendTo(`${push.origin}/push`, { timeout: 10_000 })).toMatchObject({ sent: 1, failed: 0 });
  });

  it('gives up after the timeout on a push service that never answers', async () => {
    const push = await host(() => undefined);
    const started = Date.now();
    const result = await sendTo(`${push.origin}/push`, { timeout: 300 });
    expect(result).toMatchObject({ sent: 0, failed: 1 });
    expect(result.errors[0]!.reason).toMatch(/timeout/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("refuses 'ca' (fetch trusts the runtime's authorities only) and an unknown transport", () => {
    expect(() => createPushServer({ vapid, store: memoryStore(), transport: 'fetch', ca: '-----BEGIN CERTIFICATE-----x' })).toThrow(/invalid-option ca/);
    expect(() => createPushServer({ vapid, store: memoryStore(), transport: 'http3' as 'fetch' })).toThrow(/invalid-option transport/);
  });
});

describe('createFetchTransport', () => {
  const request = (url: string) => ({ url: new URL(url), headers: {}, body: new Uint8Array(1), timeout: 1000 });

  it('refuses IP literals sends must not reach, and localhost unless loopback is allowed, before any request', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const strict = createFetchTransport({ allowLoopback: false, fetch });
    for (const url of ['http://127.0.0.1:9/p', 'http://localhost:9/p', 'http://api.localhost/p', 'http://10.0.0.1/p', 'http://[::1]/p', 'http://[::ffff:169.254.169.254]/p', 'http://0.0.0.0/p', 'http://192.168.1.1/p']) {
      await expect(strict.post(request(url)), url).rejects.toMatchObject({ code: 'send-failed', details: { reason: 'address' } });
    }
    const loose = createFetchTransport({ allowLoopback: true, fetch });
    await expect(loose.post(request('http://10.0.0.1/p'))).rejects.toMatchObject({ details: { reason: 'address', kind: 'private' } });
    expect(await strict.alive!('http://169.254.169.254', 1000)).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("asks fetch not to follow redirects, leaves Content-Length to it, and reports a network error as 'network'", async () => {
    const fetch = vi.fn<typeof globalThis.fetch>().mockRejectedValue(new TypeError('fetch failed'));
    const transport = createFetchTransport({ allowLoopback: true, fetch });
    await expect(transport.post({ ...request('http://127.0.0.1:9/p'), headers: { 'content-length': '1', ttl: '60' } })).rejects.toMatchObject({
      code: 'send-failed',
      details: { reason: 'network', message: 'fetch failed' },
    });
    const init = fetch.mock.calls[0]![1]!;
    expect(init).toMatchObject({ method: 'POST', redirect: 'manual', headers: { ttl: '60' } });
    expect(init.headers).not.toHaveProperty('content-length');
  });

  it(`keeps at most ${ANSWER_BYTES} bytes of an error answer's body, decoded as UTF-8`, async () => {
    const fetch = vi.fn<typeof globalThis.fetch>().mockResolvedValue(new Response('é'.repeat(2000), { status: 400 }));
    const answer = await createFetchTransport({ allowLoopback: true, fetch }).post(request('http://127.0.0.1:9/p'));
    expect(answer.status).toBe(400);
    expect(new TextEncoder().encode(answer.text.replace(/\uFFFD$/, '')).length).toBeLessThanOrEqual(ANSWER_BYTES);
    expect(answer.text.startsWith('é'.repeat(200))).toBe(true);
  });
});

describe('runtimeName', () => {
  it("is 'node' in Node, and tells workerd, Bun and Deno by what only each has", () => {
    expect(runtimeName()).toBe('node');
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' });
    expect(runtimeName()).toBe('workerd');
    vi.stubGlobal('Deno', {});
    expect(runtimeName()).toBe('deno');
    vi.stubGlobal('Bun', {});
    expect(runtimeName()).toBe('bun');
    vi.unstubAllGlobals();
    expect(runtimeName()).toBe('node');
  });
});
