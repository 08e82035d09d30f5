import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contractBackend, type ContractBackend } from './support/contractBackend.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { pushManagerStub } from '../../src/testing/index.js';
import { NO_PUSH_FEATURES, sleep, until, type WebKitOptions } from './support/webkit.js';
import { WebKitDriver, type WebKitSession } from './support/webkitDriver.js';

// The page SDK as shipped (dist/tidings.iife.js) in WebKit, Safari's engine: real service
// worker, IndexedDB and permission rules, driven over WebDriver so a click is a real
// gesture. Only PushManager.subscribe is stubbed (on /stubbed.html): WebKit cannot
// subscribe off Apple platforms, and the last test pins that refusal.

const KEY = createECDH('prime256v1').generateKeys().toString('base64url');

interface PageClient {
  subscribe(): Promise<{ subscribed: boolean; synced: boolean }>;
  requestPermission(): Promise<string>;
  getState(): Promise<{ supported: boolean; permission: string; subscribed: boolean; synced: boolean }>;
  diagnose(): Promise<{ supported?: boolean; secureContext: boolean; apis: Record<string, boolean>; homeScreenRequired?: boolean; errors: string[] }>;
}
interface TidingsWindow {
  Tidings: {
    isSupported(): boolean;
    createPushClient(options: object): PageClient;
    showSoftPrompt(client: PageClient, options?: object): Promise<string>;
  };
  client: PageClient;
  answer?: Promise<string>;
}
/** A rejection as plain data, so it crosses WebDriver with its code. */
type Failure = { failed: true; name: string; code?: string; reason?: string };

describe('dist/tidings.iife.js in WebKit', () => {
  let server: StaticServer;
  let backend: ContractBackend;
  let driver: WebKitDriver;
  let browser: WebKitSession | undefined;

  beforeAll(async () => {
    server = await startStaticServer();
    backend = contractBackend(server);
    // The test page with PushManager.subscribe stubbed before tidings loads: a subscription
    // with real P-256 keys and an endpoint on this origin.
    const stub = pushManagerStub({
      endpoint: `${server.origin}/push/ep/${randomUUID()}`,
      keys: { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    });
    // With ?tag, the drop-in script tag and its buttons, as a site would add them.
    server.route((req, res, url) => {
      if (url.pathname != '/stubbed.html') return false;
      const tag = url.searchParams.has('tag')
        ? `data-vapid-public-key="${KEY}" data-service-worker="/client-sw.js"></script><button data-tidings-subscribe>Notify me</button>`
        : '></script>';
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        `<!doctype html><meta charset="utf-8"><script>${stub}</script>` +
          `<script src="/tidings.iife.js" ${tag}<p>stubbed push</p>`,
      );
      return true;
    });
    driver = await WebKitDriver.start();
  });
  afterAll(async () => {
    await driver?.stop();
    await server?.close();
  });
  beforeEach(() => {
    backend.requests.length = 0;
    backend.bodies.length = 0;
    backend.stored.clear();
  });
  afterEach(async () => {
    const closing = browser;
    browser = undefined;
    await closing?.close();
  });

  /** Loads `page` in this test's WebKit (started with `options` on first use), then makes `window.client` for KEY and the test worker. */
  const open = async (options: WebKitOptions, page = '/client.html') => {
    browser ??= await driver.newSession(options);
    await browser.navigate(`${server.origin}${page}`);
    await browser.run((key) => {
      const w = window as unknown as TidingsWindow;
      w.client = w.Tidings.createPushClient({ vapidPublicKey: key, backend: '/api/push', serviceWorker: '/client-sw.js' });
    }, KEY);
    return browser;
  };
  /** Runs `client.<method>()` in the page, outside any gesture; a rejection comes back as a Failure. */
  const call = <T>(page: WebKitSession, method: 'subscribe' | 'requestPermission' | 'getState') =>
    page.run(
      (method) =>
        (window as unknown as TidingsWindow).client[method]().then(
          (value: unknown) => value,
          (error: { name: string; code?: string; details?: { reason?: string } }) =>
            ({ failed: true, name: error.name, code: error.code, reason: error.details?.reason }) satisfies Failure,
        ),
      method,
    ) as Promise<T | Failure>;

  it('without the Push API (a Safari tab on iOS) isSupported() is false and diagnose() says PushManager is missing', async () => {
    const page = await open({ features: NO_PUSH_FEATURES });
    expect(await page.run(() => (window as unknown as TidingsWindow).Tidings.isSupported())).toBe(false);
    const diagnosis = await page.run(() => (window as unknown as TidingsWindow).client.diagnose());
    expect(diagnosis).toMatchObject({ supported: false, secureContext: true, errors: [] });
    expect(diagnosis.apis).toEqual({
      serviceWorker: true,
      permissions: true,
      locks: true,
      PushManager: false,
      Notification: true,
      indexedDB: true,
    });
    expect(await call(page, 'subscribe')).toMatchObject({ failed: true, name: 'TidingsError', code: 'unsupported' });
  });

  it('with the Push API isSupported() is true and diagnose() finds every API', async () => {
    const page = await open({});
    expect(await page.run(() => (window as unknown as TidingsWindow).Tidings.isSupported())).toBe(true);
    const diagnosis = await page.run(() => (window as unknown as TidingsWindow).client.diagnose());
    expect(diagnosis).toMatchObject({ supported: true, secureContext: true, homeScreenRequired: false, errors: [] });
    expect(Object.values(diagnosis.apis)).not.toContain(false);
  });

  it('the soft prompt asks only inside the click on Allow: granted, subscribed, registered', async () => {
    const page = await open({ allow: server.origin }, '/stubbed.html');
    expect(await page.run(() => Notification.permission)).toBe('default');
    await page.run(() => {
      const w = window as unknown as TidingsWindow;
      w.answer = w.Tidings.showSoftPrompt(w.client, { title: 'Stay in the loop?' });
    });
    await page.click('.tidings-prompt-allow');
    expect(await page.run(() => (window as unknown as TidingsWindow).answer)).toBe('subscribed');
    expect(await page.run(() => [Notification.permission, document.querySelectorAll('dialog').length])).toEqual(['granted', 0]);
    expect(backend.requests).toEqual(['POST /subscriptions']);
    // WebKit's Permissions API does not follow the grant (Chromium's and Firefox's do), so
    // tidings reads Notification.permission.
    expect(await page.run(async () => (await navigator.permissions.query({ name: 'notifications' })).state)).toBe('prompt');
    expect(await call(page, 'getState')).toMatchObject({ permission: 'granted', subscribed: true, synced: true });
  });

  it("the script tag's subscribe button asks inside its click, and registers", async () => {
    browser = await driver.newSession({ allow: server.origin });
    await browser.navigate(`${server.origin}/stubbed.html?tag`);
    await browser.click('[data-tidings-subscribe]');
    await until(() => (backend.requests.length ? backend.requests : undefined), 'the registration');
    expect(backend.requests).toEqual(['POST /subscriptions']);
    expect(await browser.run(() => Notification.permission)).toBe('granted');
  });

  it('subscribe() outside a gesture is refused at once with permission-denied, and the refusal is not kept', async () => {
    // The browser would answer Allow: only WebKit's gesture rule refuses here.
    const page = await open({ allow: server.origin }, '/stubbed.html');
    const started = Date.now();
    expect(await call(page, 'subscribe')).toMatchObject({ failed: true, name: 'TidingsError', code: 'permission-denied' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(backend.requests).toEqual([]);
    // Safari's rule, not the user's answer: the permission stays 'default', so the soft
    // prompt still shows and its click is granted.
    expect(await page.run(() => Notification.permission)).toBe('default');
    await page.run(() => {
      const w = window as unknown as TidingsWindow;
      w.answer = w.Tidings.showSoftPrompt(w.client);
    });
    await page.click('.tidings-prompt-allow');
    expect(await page.run(() => (window as unknown as TidingsWindow).answer)).toBe('subscribed');
  });

  it('requestPermission() outside a gesture answers the permission already granted, not WebKit\'s refusal', async () => {
    const page = await open({ grant: server.origin });
    // WebKit itself answers 'denied' to any request outside a gesture, granted or not.
    expect(await page.run(() => Notification.requestPermission())).toBe('denied');
    expect(await call(page, 'requestPermission')).toBe('granted');
    expect(await page.run(() => Notification.permission)).toBe('granted');
  });

  it('subscribe registers through the worker with the backend; a reload sends nothing', async () => {
    const page = await open({ grant: server.origin }, '/stubbed.html');
    expect(await call(page, 'subscribe')).toMatchObject({ subscribed: true, synced: true });
    expect(backend.requests).toEqual(['POST /subscriptions']);
    const body = backend.bodies[0] as { subscription: { endpoint: string; keys: { p256dh: string; auth: string } } };
    expect(body.subscription.endpoint).toMatch(new RegExp(`^${server.origin}/push/ep/`));
    expect(Buffer.from(body.subscription.keys.p256dh, 'base64url')).toHaveLength(65);

    // The same browser loads the page again.
    await open({ grant: server.origin }, '/stubbed.html');
    // Time for the quiet check a new client makes; it finds nothing changed.
    await sleep(1_000);
    expect(await call(page, 'getState')).toMatchObject({ subscribed: true, synced: true });
    expect(backend.requests).toEqual(['POST /subscriptions']);
  });

  it("WebKit's own subscribe() refuses every key off Apple platforms: the user gets subscribe-failed", async () => {
    const page = await open({ grant: server.origin });
    const failure = await call(page, 'subscribe');
    expect(failure).toMatchObject({ failed: true, name: 'TidingsError', code: 'subscribe-failed' });
    expect((failure as Failure).reason).toMatch(/^InvalidAccessError/);
    expect(backend.requests).toEqual([]);
  });
});
