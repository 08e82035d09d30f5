import { createECDH } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { contractBackend, type ContractBackend } from './support/contractBackend.js';
import { stubPush } from './support/stubPush.js';

// The page SDK as shipped: the built dist/tidings.iife.js in real Chromium, with a real
// service worker, IndexedDB and Web Locks, against a same-origin HTTP backend keeping the
// contract. Only the push service and the permission prompt are stubbed (support/stubPush).

const vapidKey = () => createECDH('prime256v1').generateKeys().toString('base64url');
const KEY = vapidKey();
const OTHER_KEY = vapidKey();

interface TidingsWindow {
  Tidings: {
    createPushClient(options: object): {
      subscribe(): Promise<{ subscribed: boolean; synced: boolean }>;
      unsubscribe(): Promise<{ subscribed: boolean }>;
      getState(): Promise<{ subscribed: boolean; synced: boolean; lastError?: string }>;
    };
    showSoftPrompt(client: unknown, options?: object): Promise<string>;
    client?: unknown;
  };
  client: ReturnType<TidingsWindow['Tidings']['createPushClient']>;
  answer?: Promise<string>;
}

describe('dist/tidings.iife.js in Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let backend: ContractBackend;

  beforeAll(async () => {
    server = await startStaticServer();
    backend = contractBackend(server);
    // The script-tag page, with the key of the test that asks for it.
    server.route((req, res, url) => {
      if (url.pathname != '/autoinit.html') return false;
      const key = url.searchParams.get('key') ?? '';
      const attributes = key ? `data-vapid-public-key="${key}" data-service-worker="/client-sw.js"` : '';
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        `<!doctype html><meta charset="utf-8"><button data-tidings-subscribe>Notify me</button>` +
          `<button data-tidings-unsubscribe>Stop</button><script src="/tidings.iife.js" ${attributes}></script>`,
      );
      return true;
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    backend.requests.length = 0;
    backend.bodies.length = 0;
    backend.stored.clear();
    backend.script.length = 0;
    context = await browser.newContext();
    await context.addInitScript(stubPush);
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
  });

  /** Opens the test page and makes `window.client` with `key` (and the test worker). */
  const open = async (key = KEY, extra: object = {}) => {
    await page.goto(`${server.origin}/client.html`);
    await page.evaluate(
      ({ key, extra }) => {
        const w = window as unknown as TidingsWindow;
        w.client = w.Tidings.createPushClient({
          vapidPublicKey: key,
          backend: '/api/push',
          serviceWorker: '/client-sw.js',
          ...extra,
        });
      },
      { key, extra },
    );
  };
  const call = <T>(fn: (w: TidingsWindow) => Promise<T>): Promise<T> =>
    page.evaluate(`(${fn.toString()})(window)`) as Promise<T>;
  const settle = () => page.waitForTimeout(300);

  it('subscribe posts the registration once; a reload sends nothing', async () => {
    await open(KEY, { attributes: { user: 'u1' } });
    const state = await call((w) => w.client.subscribe());
    expect(state).toMatchObject({ subscribed: true, synced: true });
    expect(backend.requests).toEqual(['POST /subscriptions']);
    const body = backend.bodies[0] as { subscription: { endpoint: string; keys: { p256dh: string; auth: string } }; attributes: unknown };
    expect(body.subscription.endpoint).toMatch(new RegExp(`^${server.origin}/push/ep/`));
    expect(Buffer.from(body.subscription.keys.p256dh, 'base64url')).toHaveLength(65);
    expect(Buffer.from(body.subscription.keys.auth, 'base64url')).toHaveLength(16);
    // The browser's zone and language come along (localeAttributes).
    expect(body.attributes).toEqual({ user: 'u1', timeZone: expect.any(String), language: expect.any(String) });

    await page.reload();
    await open(KEY, { attributes: { user: 'u1' } });
    await settle();
    expect(await call((w) => w.client.getState())).toMatchObject({ subscribed: true, synced: true });
    expect(backend.requests).toEqual(['POST /subscriptions']);
  });

  it('a new VAPID key drops the old subscription: DELETE, then POST', async () => {
    await open(OTHER_KEY);
    await call((w) => w.client.subscribe());
    const [oldId] = backend.stored.keys();
    await page.reload();
    await open(KEY);
    await expect.poll(() => backend.requests.length, { timeout: 10_000 }).toBe(3);
    expect(backend.requests).toEqual(['POST /subscriptions', `DELETE /subscriptions/${oldId}`, 'POST /subscriptions']);
    expect(backend.stored.size).toBe(1);
  });

  it('a subscription the browser dropped is made again on the next load, and replaces the old registration', async () => {
    await open();
    await call((w) => w.client.subscribe());
    const [oldId] = backend.stored.keys();
    // What a failed replacement or an expiry leaves: permission granted, no subscription.
    await page.evaluate(() => localStorage.removeItem('stub-subscription'));
    await page.reload();
    await open();
    await expect.poll(() => backend.requests.length, { timeout: 10_000 }).toBe(3);
    expect(backend.requests).toEqual(['POST /subscriptions', `DELETE /subscriptions/${oldId}`, 'POST /subscriptions']);
    expect(await call((w) => w.client.getState())).toMatchObject({ subscribed: true, synced: true });
    expect(await page.evaluate(() => localStorage.getItem('stub-prompts'))).toBe('1');
  });

  it('the registration still arrives when the backend answers 503 twice', async () => {
    backend.script.push(503, 503);
    await open();
    const state = await call((w) => w.client.subscribe());
    expect(state).toMatchObject({ subscribed: true, synced: true });
    expect(backend.requests).toEqual(['POST /subscriptions', 'POST /subscriptions', 'POST /subscriptions']);
    expect(backend.stored.size).toBe(1);
  });

  it('a registration that failed on one page load is finished by the next', async () => {
    backend.script.push(503, 503, 503);
    await open();
    expect(await call((w) => w.client.subscribe())).toMatchObject({ subscribed: true, synced: false });
    expect(backend.stored.size).toBe(0);
    await page.reload();
    await open();
    await expect.poll(() => backend.stored.size, { timeout: 10_000 }).toBe(1);
  });

  it('unsubscribe deletes the registration', async () => {
    await open();
    await call((w) => w.client.subscribe());
    const [id] = backend.stored.keys();
    expect(await call((w) => w.client.unsubscribe())).toMatchObject({ subscribed: false });
    expect(backend.requests).toEqual(['POST /subscriptions', `DELETE /subscriptions/${id}`]);
    expect(backend.stored.size).toBe(0);
  });

  describe("registerServiceWorker: 'load'", () => {
    it('registers a Workbox-style worker at load, so a visitor who never subscribes gets its precache', async () => {
      await open(KEY, { serviceWorker: '/client-precache-sw.js', registerServiceWorker: 'load' });
      const active = () => page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.scriptURL);
      await expect.poll(active, { timeout: 15_000 }).toBe(`${server.origin}/client-precache-sw.js`);
      const cached = await page.evaluate(async () => (await (await caches.open('app-shell')).keys()).map((r) => new URL(r.url).pathname));
      expect(cached.sort()).toEqual(['/client.html', '/tidings.iife.js']);
      expect(await page.evaluate(() => localStorage.getItem('stub-prompts'))).toBeNull();
      expect(await page.evaluate(() => localStorage.getItem('stub-subscription'))).toBeNull();
      expect(backend.requests).toEqual([]);
      expect(await call((w) => w.client.getState())).toMatchObject({ subscribed: false, lastError: undefined });
    });

    it('registers nothing by default until subscribe()', async () => {
      const before = server.requests.length;
      await open(KEY, { serviceWorker: '/client-precache-sw.js' });
      await settle();
      expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);
      expect(server.requests.slice(before).some((r) => r.path == '/client-precache-sw.js')).toBe(false);
    });
  });

  describe('bad options', () => {
    it('throw a TidingsError saying which option and why, which a try around creation catches', async () => {
      await page.goto(`${server.origin}/client.html`);
      const errors = await page.evaluate((key) => {
        const w = window as unknown as TidingsWindow;
        const given = [{ backend: '/api/push' }, { vapidPublicKey: 'BAAA', backend: '/api/push' }, { vapidPublicKey: key, backend: 'api/push' }];
        return given.map((options) => {
          try {
            w.Tidings.createPushClient(options);
            return 'accepted';
          } catch (error) {
            return [(error as Error).name, (error as Error).message];
          }
        });
      }, KEY);
      expect(errors).toEqual([
        ['TidingsError', 'invalid-option vapidPublicKey missing'],
        ['TidingsError', expect.stringMatching(/^invalid-option vapidPublicKey must be a .*65-byte P-256/)],
        ['TidingsError', expect.stringMatching(/^invalid-option backend must start with \/ or be an absolute URL/)],
      ]);
    });
  });

  describe('the soft prompt', () => {
    const show = () =>
      page.evaluate(() => {
        const w = window as unknown as TidingsWindow;
        w.answer = w.Tidings.showSoftPrompt(w.client, { title: 'Stay in the loop?' });
      });
    const answer = () => page.evaluate(() => (window as unknown as TidingsWindow).answer);

    it('Allow subscribes from the click', async () => {
      await open();
      await show();
      const dialog = page.getByRole('dialog', { name: 'Stay in the loop?' });
      await dialog.waitFor();
      await page.getByRole('button', { name: 'Allow' }).click();
      expect(await answer()).toBe('subscribed');
      expect(await dialog.count()).toBe(0);
      expect(backend.requests).toEqual(['POST /subscriptions']);
      expect(await page.evaluate(() => localStorage.getItem('stub-prompts'))).toBe('1');
    });

    it('Later closes it and it stays away on the next visits', async () => {
      await open();
      await show();
      await page.getByRole('button', { name: 'Not now' }).click();
      expect(await answer()).toBe('later');
      await page.reload();
      await open();
      await show();
      expect(await answer()).toBe('later');
      expect(await page.locator('dialog').count()).toBe(0);
      expect(backend.requests).toEqual([]);
    });

    it("answers 'blocked' without showing when permission is denied", async () => {
      await page.goto(`${server.origin}/client.html`);
      await page.evaluate(() => localStorage.setItem('stub-permission', 'denied'));
      await open();
      await show();
      expect(await answer()).toBe('blocked');
      expect(await page.locator('dialog').count()).toBe(0);
    });
  });

  describe('the script tag', () => {
    it('does nothing at load without data-vapid-public-key', async () => {
      await page.goto(`${server.origin}/autoinit.html`);
      expect(await page.evaluate(() => typeof (window as unknown as TidingsWindow).Tidings.client)).toBe('undefined');
      await page.getByRole('button', { name: 'Notify me' }).click();
      await settle();
      expect(backend.requests).toEqual([]);
    });

    it('creates Tidings.client and wires the subscribe and unsubscribe elements', async () => {
      await page.goto(`${server.origin}/autoinit.html?key=${KEY}`);
      expect(await page.evaluate(() => typeof (window as unknown as TidingsWindow).Tidings.client)).toBe('object');
      await page.getByRole('button', { name: 'Notify me' }).click();
      await expect.poll(() => backend.requests).toEqual(['POST /subscriptions']);
      await page.getByRole('button', { name: 'Stop' }).click();
      await expect.poll(() => backend.requests.length).toBe(2);
      expect(backend.requests[1]).toMatch(/^DELETE \/subscriptions\//);
    });
  });
});
