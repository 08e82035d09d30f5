import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import webpush from 'web-push';
import { launchChromium, newContext } from './support/chromium.js';
import { attachPushDriver, type PushDriver } from '../../src/testing/index.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { contractBackend, type ContractBackend } from './support/contractBackend.js';
import { stubPush } from './support/stubPush.js';
import { eventsRoute, type BackendEvent } from './support/eventsRoute.js';

// The built dist/tidings-worker.iife.js in a real Chromium service worker, fed real push
// events through the DevTools protocol, talking to a real local HTTP backend.
const vapidPublicKey = webpush.generateVAPIDKeys().publicKey;
const workerOptions = { backend: '/api/push', defaultNotification: { title: 'E2E default' } };

interface Shown {
  title: string;
  tag?: string;
}
describe('dist/tidings-worker.iife.js in Chromium', () => {
  let server: StaticServer;
  let backend: ContractBackend;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let push: PushDriver;
  let events: BackendEvent[];
  let eventPosts: number[];
  const messages = new Map<string, string>();

  beforeAll(async () => {
    server = await startStaticServer();
    ({ events, posts: eventPosts } = eventsRoute(server));
    // The message route of the backend contract; subscriptions are contractBackend's.
    server.route(async (req, res, url) => {
      const id = /^\/api\/push\/messages\/(.+)$/.exec(url.pathname)?.[1];
      if (req.method === 'GET' && id && messages.has(id)) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(messages.get(id));
        return true;
      }
      const article = /^\/articles\/(\d+)$/.exec(url.pathname)?.[1];
      if (article) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`article ${article}`);
        return true;
      }
      return false;
    });
    backend = contractBackend(server);
    browser = await launchChromium();
    context = await newContext(browser, server.origin);
    await context.addInitScript(stubPush);
    page = await context.newPage();
    push = await attachPushDriver(page);
    const sw = `/worker/sw.js?options=${encodeURIComponent(JSON.stringify(workerOptions))}`;
    await page.goto(`${server.origin}/worker/index.html?sw=${encodeURIComponent(sw)}`);
    await page.evaluate(() => (window as unknown as { __ready: Promise<boolean> }).__ready);
  });

  afterAll(async () => {
    await push?.detach();
    await browser?.close();
    await server?.close();
  });

  const shownList = () => page.evaluate(() => (window as unknown as { __shown: Shown[] }).__shown);
  /** Waits until the worker reported `n` shown notifications in all. */
  const shownCount = (n: number, timeout = 30_000) =>
    page.waitForFunction((n) => (window as unknown as { __shown: unknown[] }).__shown.length >= n, n, { timeout });
  /** Lists notifications: only once the probe said they were shown (Chromium drops one listed while shown). */
  const notifications = () =>
    page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
    });
  const until = async (check: () => boolean, what: string, timeout = 30_000) => {
    for (const deadline = Date.now() + timeout; !check(); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  };
  const eventOf = (type: string, messageId?: string, reason?: string) =>
    events.find((e) => e.type === type && e.messageId === messageId && (reason === undefined || e.reason === reason));
  let expected = 0;
  const send = async (payload: unknown) => {
    await push.push(typeof payload === 'string' ? payload : JSON.stringify(payload));
  };

  it('shows the notification of a real push, marked as tidings own', async () => {
    await send({ v: 1, id: 'n1', notification: { title: 'Hello', body: 'from a real push', tag: 'n1', url: '/articles/1' } });
    await shownCount(++expected);
    const shown = (await notifications()).find((n) => n.tag === 'n1');
    expect(shown).toMatchObject({ title: 'Hello', body: 'from a real push' });
    expect(shown!.data.__tidings).toMatchObject({ messageId: 'n1', url: '/articles/1', analytics: true });
  });

  it('sends delivered and shown to POST {backend}/events of a real HTTP backend', async () => {
    await until(() => !!eventOf('delivered', 'n1') && !!eventOf('shown', 'n1'), 'the events of n1');
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('shows the default notification for garbage, and reports why', async () => {
    await send('this is not json');
    await shownCount(++expected);
    expect((await shownList()).at(-1)!.title).toBe('E2E default');
    await until(() => !!eventOf('failed', undefined, 'json'), 'failed json');
  });

  it('ignores a replayed id its sender marked as a retry', async () => {
    const envelope = { v: 1, id: 'dup', notification: { title: 'Dup', tag: 'dup' } };
    await send(envelope);
    await shownCount(++expected);
    await send({ ...envelope, retry: true });
    await until(() => !!eventOf('failed', 'dup', 'replayed'), 'failed replayed');
    // The probe reports every show: the replay showed nothing, not even the default.
    const titles = (await shownList()).map((s) => s.title);
    expect(titles.filter((t) => t === 'Dup')).toHaveLength(1);
    expect(titles).toHaveLength(expected);
  });

  it('leaves one copy of an unmarked repeat on screen, counted once', async () => {
    const envelope = { v: 1, id: 'twice', notification: { title: 'Twice' } };
    await send(envelope);
    await shownCount(++expected);
    await send(envelope);
    await shownCount(++expected);
    await until(() => !!eventOf('failed', 'twice', 'replayed'), 'failed replayed');
    // Listed once the worker is done with it: the copy shown before the guard knew is closed.
    await until(() => events.filter((e) => e.messageId === 'twice').length >= 3, 'the events of both copies');
    expect((await notifications()).filter((n) => n.title === 'Twice')).toHaveLength(1);
    expect(events.filter((e) => e.messageId === 'twice').map((e) => e.type).sort()).toEqual(['delivered', 'failed', 'shown']);
  });

  it('puts a URL in Cache Storage', async () => {
    await send({ v: 1, id: 'c1', cache: { urls: ['/articles/42'] }, notification: { title: 'Cached', tag: 'c1' } });
    await shownCount(++expected);
    await page.waitForFunction(async () => {
      const response = await (await caches.open('tidings')).match('/articles/42');
      return (await response?.text()) === 'article 42';
    });
  });

  it('puts what a push sends to a cache it was not configured with in its own cache, making none', async () => {
    await send({ v: 1, id: 'c2', cache: { urls: ['/articles/43'], cacheName: 'tidings-pushed' }, notification: { title: 'Cached 2', tag: 'c2' } });
    await shownCount(++expected);
    await page.waitForFunction(async () => (await (await caches.open('tidings')).match('/articles/43')) !== undefined);
    expect(await page.evaluate(() => caches.keys())).toEqual(['tidings']);
  });

  it("delivers data to the page SDK's onMessage", async () => {
    await page.evaluate(async (vapidPublicKey) => {
      const w = window as unknown as { Tidings: any; __client: any; __got: unknown[] };
      w.__got = [];
      // The registration the page made, so the SDK does not register a worker of its own.
      const serviceWorker = await navigator.serviceWorker.ready;
      w.__client = w.Tidings.createPushClient({ vapidPublicKey, backend: '/api/push', serviceWorker, sealed: true });
      w.__client.onMessage((data: unknown) => w.__got.push(data));
    }, vapidPublicKey);
    await send({ v: 1, id: 'd1', data: { hello: 'page' }, notification: { title: 'With data', tag: 'd1' } });
    await shownCount(++expected);
    await page.waitForFunction(() => (window as unknown as { __got: unknown[] }).__got.length > 0);
    expect(await page.evaluate(() => (window as unknown as { __got: unknown[] }).__got)).toEqual([{ hello: 'page' }]);
  });

  it('opens a sealed envelope end to end: the page SDK registers the key, web-push seals', async () => {
    const state = await page.evaluate(() => (window as unknown as { __client: any }).__client.subscribe());
    expect(state).toMatchObject({ subscribed: true, synced: true });
    const { sealKey } = backend.bodies.at(-1) as { sealKey: { p256dh: string; auth: string } };
    expect(sealKey.p256dh).toMatch(/^[\w-]{87}$/);
    const seal = (envelope: object) =>
      Buffer.from(webpush.encrypt(sealKey.p256dh, sealKey.auth, JSON.stringify(envelope), 'aes128gcm').cipherText).toString('base64url');

    await send({ v: 1, sealed: seal({ v: 1, id: 's1', notification: { title: 'Sealed secret', tag: 's1' } }) });
    await shownCount(++expected);
    expect((await shownList()).at(-1)!.title).toBe('Sealed secret');

    // Too big for a push: fetched from the backend, sealed at rest.
    messages.set('f1', JSON.stringify({ v: 1, sealed: seal({ v: 1, id: 'f1', notification: { title: 'Fetched secret', tag: 'f1' } }) }));
    await send({ v: 1, id: 'f1', fetch: '/api/push/messages/f1' });
    await shownCount(++expected);
    expect((await shownList()).at(-1)!.title).toBe('Fetched secret');

    // Sealed to another key: refused, the default shown instead.
    const other = await page.evaluate(async () => {
      const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
      const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
      return btoa(String.fromCharCode(...raw)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    });
    const wrong = webpush.encrypt(other, sealKey.auth, '{"v":1}', 'aes128gcm').cipherText;
    await send({ v: 1, id: 'x1', sealed: Buffer.from(wrong).toString('base64url') });
    await shownCount(++expected);
    expect((await shownList()).at(-1)!.title).toBe('E2E default');
    await until(() => !!eventOf('failed', 'x1', 'unseal'), 'failed unseal');
  });

  it('registers only with its configured backend when a page message names another (issue 10)', async () => {
    const before = backend.requests.length;
    // What a hostile script on the site could post: the page SDK's sync request, pointing elsewhere.
    const answer = await page.evaluate(async (origin) => {
      const registration = await navigator.serviceWorker.ready;
      const channel = new MessageChannel();
      const answered = new Promise((resolve) => {
        channel.port1.onmessage = ({ data }) => {
          if ('ok' in data) resolve(data);
        };
      });
      registration.active!.postMessage(
        {
          source: 'tidings',
          kind: 'sync',
          backend: `${origin}/collect`,
          timeout: 5000,
          registration: {
            subscription: { endpoint: `${origin}/push/ep/other`, expirationTime: null, keys: { p256dh: 'p', auth: 'a' } },
            vapidPublicKey: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4',
          },
        },
        [channel.port2],
      );
      return answered;
    }, server.origin);
    expect(answer).toMatchObject({ ok: true });
    // The registration it replaces is deleted first: both at the worker's own backend.
    expect(backend.requests.slice(before)).toEqual([expect.stringMatching(/^DELETE \/subscriptions\//), 'POST /subscriptions']);
    expect(server.requests.filter((r) => r.path.startsWith('/collect'))).toEqual([]);
  });

  it('handles a burst of 200 pushes: every one shown, every event at the backend', async () => {
    const posts = eventPosts.length;
    const ids = Array.from({ length: 200 }, (_, i) => `b${i}`);
    const started = Date.now();
    // At once, as a burst arrives: sent one by one, each waiting for DevTools, the gaps on a
    // loaded machine outlast the outbox's linger and every gap sends a partial batch.
    await Promise.all(ids.map((id) => send({ v: 1, id, notification: { title: `Burst ${id}`, tag: id } })));
    expected += ids.length;
    await shownCount(expected, 60_000);
    await until(() => ids.every((id) => eventOf('delivered', id) && eventOf('shown', id)), 'all burst events', 60_000);
    const elapsed = Date.now() - started;
    expect(events.filter((e) => e.type === 'failed' && e.messageId?.startsWith('b'))).toEqual([]);
    const titles = (await notifications()).map((n) => n.title).filter((t) => t.startsWith('Burst '));
    expect(titles).toHaveLength(200);
    const requests = eventPosts.length - posts;
    console.log(`200 pushes: ${elapsed} ms, ${requests} event requests`);
    expect(requests).toBeLessThanOrEqual(Math.ceil(400 / 20) + 5);
  });
});
