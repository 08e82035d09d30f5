import http2 from 'node:http2';
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { generateVapidKeys } from '../../../src/server/index.js';
import type { SubscriptionJSON } from '../../../src/shared/protocol.js';
import { createCertificate, startPushService, type PushService } from '../../../src/testing/index.js';

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let clock = Date.now();
let service: PushService;
beforeEach(async () => {
  clock = Date.now();
  service = await startPushService({ now: () => clock });
});
afterEach(() => service.close());

/** A valid RFC 8291 request from web-push, which a test then bends. */
function details(subscription: SubscriptionJSON, payload: string, options: webpush.RequestOptions = {}) {
  return webpush.generateRequestDetails(subscription, payload, { vapidDetails: vapid, contentEncoding: 'aes128gcm', TTL: 60, ...options });
}

async function post(endpoint: string, headers: Record<string, string>, body?: Uint8Array<ArrayBuffer>): Promise<Response> {
  return fetch(endpoint, { method: 'POST', headers, ...(body ? { body } : {}) });
}

async function sendWith(subscription: SubscriptionJSON, change: (headers: Record<string, string>) => void, payload = 'hi') {
  const request = details(subscription, payload);
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
  delete headers['Content-Length'];
  change(headers);
  return post(request.endpoint, headers, request.body ? new Uint8Array(request.body) : undefined);
}

// A structurally valid aes128gcm body of `size` bytes (the service cannot decrypt it, and does not try).
function fakeBody(size: number): Uint8Array<ArrayBuffer> {
  const body = new Uint8Array(size);
  body[20] = 65;
  return body;
}

describe('RFC 8030 push resource', () => {
  it('answers 201 with Location and TTL, and a headless subscriber decrypts the message', async () => {
    const subscription = await service.subscribe(vapid.publicKey);
    const response = await sendWith(subscription, () => {});
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toMatch(new RegExp(`^${service.url}/m/`));
    expect(response.headers.get('ttl')).toBe('60');
    expect(await service.received(subscription.endpoint)).toEqual(['hi']);
    expect(await service.received(subscription.endpoint)).toEqual([]);
  });

  it('requires TTL, and caps it at 30 days', async () => {
    const subscription = await service.subscribe();
    for (const ttl of [undefined, 'abc', '-1', '1.5']) {
      const response = await sendWith(subscription, (h) => (ttl === undefined ? delete h.TTL : (h.TTL = ttl)));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 400, errno: 111 });
    }
    const capped = await sendWith(subscription, (h) => (h.TTL = '99999999'));
    expect(capped.headers.get('ttl')).toBe('2592000');
  });

  it('drops a TTL 0 message for a subscriber that is not connected, and expires others', async () => {
    const subscription = await service.subscribe();
    expect((await sendWith(subscription, (h) => (h.TTL = '0'))).status).toBe(201);
    expect(await service.received(subscription.endpoint)).toEqual([]);
    await sendWith(subscription, (h) => (h.TTL = '10'), 'short');
    await sendWith(subscription, (h) => (h.TTL = '100'), 'long');
    clock += 11_000;
    expect(await service.received(subscription.endpoint)).toEqual(['long']);
  });

  it('checks Urgency', async () => {
    const subscription = await service.subscribe();
    expect((await sendWith(subscription, (h) => (h.Urgency = 'high'))).status).toBe(201);
    expect((await sendWith(subscription, (h) => (h.Urgency = 'urgent'))).status).toBe(400);
    expect((await sendWith(subscription, (h) => (h.Urgency = 'low, high'))).status).toBe(400);
    expect(service.messages(subscription.endpoint).map((m) => m.urgency)).toEqual(['high']);
  });

  it('checks Topic and replaces a pending message of the same topic', async () => {
    const subscription = await service.subscribe();
    for (const topic of ['has space', 'a'.repeat(33), 'plus+slash/', 'ünïcode']) {
      const response = await sendWith(subscription, (h) => (h.Topic = topic));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ errno: 113 });
    }
    await sendWith(subscription, (h) => (h.Topic = 'score'), 'first');
    await sendWith(subscription, () => {}, 'untopical');
    await sendWith(subscription, (h) => (h.Topic = 'other'), 'other');
    await sendWith(subscription, (h) => (h.Topic = 'score'), 'second');
    expect(await service.received(subscription.endpoint)).toEqual(['untopical', 'other', 'second']);
  });

  it('accepts 4096 bytes and answers 413 above', async () => {
    const { endpoint } = await service.subscribe();
    const headers = { TTL: '60', 'Content-Encoding': 'aes128gcm' };
    expect((await post(endpoint, headers, fakeBody(4096))).status).toBe(201);
    const over = await post(endpoint, headers, fakeBody(4097));
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ errno: 104 });
    expect(service.messages(endpoint)).toHaveLength(1);
  });

  it('requires Content-Encoding aes128gcm for a body, and accepts a push without data', async () => {
    const { endpoint } = await service.subscribe();
    expect((await post(endpoint, { TTL: '60' }, fakeBody(200))).status).toBe(400);
    expect((await post(endpoint, { TTL: '60', 'Content-Encoding': 'aesgcm' }, fakeBody(200))).status).toBe(400);
    expect((await post(endpoint, { TTL: '60', 'Content-Encoding': 'aes128gcm' }, new Uint8Array(50))).status).toBe(400);
    expect((await post(endpoint, { TTL: '60' })).status).toBe(201);
    expect(await service.received(endpoint)).toEqual(['']);
  });

  it('answers 404 for unknown subscriptions and 410 for expired ones', async () => {
    const subscription = await service.subscribe();
    expect((await post(`${service.url}/wpush/v1/nope`, { TTL: '60' })).status).toBe(404);
    service.expire(subscription.endpoint);
    const gone = await sendWith(subscription, () => {});
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ code: 410, errno: 106 });
  });

  it('lets the application server cancel an undelivered message', async () => {
    const subscription = await service.subscribe();
    const location = (await sendWith(subscription, () => {})).headers.get('location')!;
    expect((await fetch(location, { method: 'DELETE' })).status).toBe(204);
    expect(await service.received(subscription.endpoint)).toEqual([]);
  });
});

describe('VAPID on restricted subscriptions', () => {
  it('answers 401 without authorization', async () => {
    const subscription = await service.subscribe(vapid.publicKey);
    const response = await sendWith(subscription, (h) => delete h.Authorization);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ errno: 109 });
  });

  it('answers 403 for a token signed by another key', async () => {
    const subscription = await service.subscribe(generateVapidKeys().publicKey);
    const response = await sendWith(subscription, () => {});
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ message: expect.stringContaining('mismatch') });
  });

  it('answers 403 for an expired token, another audience or garbage', async () => {
    const subscription = await service.subscribe(vapid.publicKey);
    const expired = await sendWith(subscription, () => (clock += 25 * 3600 * 1000));
    expect(await expired.json()).toMatchObject({ message: expect.stringContaining('expired') });
    clock = Date.now();
    const other = webpush.getVapidHeaders('https://push.example.net', vapid.subject, vapid.publicKey, vapid.privateKey, 'aes128gcm');
    const wrongAudience = await sendWith(subscription, (h) => (h.Authorization = other.Authorization));
    expect(wrongAudience.status).toBe(403);
    expect(await wrongAudience.json()).toMatchObject({ message: expect.stringContaining('audience') });
    for (const garbage of ['vapid t=garbage, k=junk', 'Bearer abc', 'vapid']) {
      expect((await sendWith(subscription, (h) => (h.Authorization = garbage))).status).toBe(403);
    }
    expect(service.messages(subscription.endpoint)).toEqual([]);
  });

  it('rejects a bad applicationServerKey at subscribe', async () => {
    await expect(service.subscribe('AAAA')).rejects.toMatchObject({ code: 'invalid-option' });
  });
});

describe('tls mode', () => {
  it('makes certificates whose serial is a minimal DER integer, which OpenSSL accepts every time', () => {
    // A serial starting with a 0 byte (then < 0x80) made OpenSSL drop the CA: 1 TLS handshake in about 250 failed.
    for (let i = 0; i < 600; i++) {
      const { ca, cert } = createCertificate();
      for (const pem of [ca, cert]) expect(new X509Certificate(pem).serialNumber).not.toMatch(/^00/);
    }
  }, 30_000);

  it('speaks HTTP/2 to a client that offers it (ALPN h2), as autopush does', async () => {
    const secure = await startPushService({ tls: true });
    const session = http2.connect(secure.url, { ca: secure.ca });
    try {
      const subscription = await secure.subscribe(vapid.publicKey);
      const request = details(subscription, 'over h2');
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': new URL(request.endpoint).pathname, ...lowerCase(request.headers) });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.end(request.body);
      });
      expect(status).toBe(201);
      expect(secure.messages(subscription.endpoint)).toMatchObject([{ httpVersion: '2.0' }]);
      expect(await secure.received(subscription.endpoint)).toEqual(['over h2']);
    } finally {
      session.close();
      await secure.close();
    }
  });

  it('serves https with a certificate for 127.0.0.1 signed by the CA it hands out', async () => {
    const secure = await startPushService({ tls: true });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(secure.webSocketUrl).toMatch(/^wss:/);
      const subscription = await secure.subscribe(vapid.publicKey);
      const request = details(subscription, 'over tls');
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(request.endpoint, { method: 'POST', headers: request.headers, ca: secure.ca }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(request.body);
      });
      expect(status).toBe(201);
      expect(await secure.received(subscription.endpoint)).toEqual(['over tls']);
      expect(new X509Certificate(secure.ca!).ca).toBe(true);
    } finally {
      await secure.close();
    }
  });
});

it('firefoxPrefs point Firefox at the WebSocket URL with the prefs DESIGN.md lists, and a quick reconnect', () => {
  expect(service.firefoxPrefs()).toEqual({
    'dom.push.serverURL': service.webSocketUrl,
    'dom.push.testing.allowInsecureServerURL': true,
    'dom.push.connection.enabled': true,
    'dom.push.enabled': true,
    'dom.serviceWorkers.testing.enabled': true,
    'dom.push.testing.ignorePermission': true,
    'permissions.default.desktop-notification': 1,
    'alerts.useSystemBackend': false,
    'dom.push.retryBaseInterval': 500,
  });
});

function lowerCase(headers: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}
