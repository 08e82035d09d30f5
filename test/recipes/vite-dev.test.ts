import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type ViteDevServer } from 'vite';
import { installTidings } from './support/tidings.js';
import { SESSION, sendThrough, startBackend, type Backend } from './support/site.js';
import { openVisitor, shownTitles, type Visitor } from './support/browser.js';
import type { SubscriptionJSON } from '../../src/shared/protocol.js';

// docs/recipes.md, "Vite: dev": the same app under `vite dev` (Vite's createServer on
// loopback): the worker's source served as a module service worker at /sw.js, and
// /api/push proxied to the backend, which runs apart as it would in development.
const app = resolve(import.meta.dirname, 'fixtures/vite-app');

describe('the Vite recipe, in vite dev', () => {
  let work: string;
  let backend: Backend;
  let vite: ViteDevServer;
  let origin: string;
  let subscriber: SubscriptionJSON;
  let visitor: Visitor;

  beforeAll(async () => {
    installTidings(app);
    work = mkdtempSync(join(tmpdir(), 'tidings-recipe-vite-dev-'));
    backend = await startBackend();
    writeFileSync(join(work, '.env'), `VITE_VAPID_PUBLIC_KEY=${backend.vapid.publicKey}\n`);
    vite = await createServer({
      root: app,
      configFile: join(app, 'vite.config.js'),
      envDir: work,
      logLevel: 'warn',
      // The recipe's proxy, pointed at this test's backend; a cache of its own per run.
      cacheDir: join(work, 'vite-cache'),
      server: { host: '127.0.0.1', port: 0, proxy: { '/api/push': { target: backend.origin, changeOrigin: false } } },
    });
    await vite.listen();
    origin = `http://127.0.0.1:${(vite.httpServer!.address() as AddressInfo).port}`;
    subscriber = await backend.pushService.subscribe(backend.vapid.publicKey);
    visitor = await openVisitor(origin, subscriber);
  });

  afterAll(async () => {
    await visitor?.close();
    await vite?.close();
    await backend?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('registers the module worker, subscribes on a click, and registers through the proxy', async () => {
    const { page } = visitor;
    await page.goto(origin);
    await page.locator('#subscribe:enabled').click({ timeout: 20_000 });
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toBe('subscribed');
    const stored = await backend.subscriptions();
    expect(stored.map((s) => s.subscription.endpoint)).toEqual([subscriber.endpoint]);
    // The session cookie went through Vite's proxy to identify().
    // The page records the browser's zone and language too (localeAttributes).
    expect(stored[0]!.attributes).toEqual({ user: SESSION.value, timeZone: expect.any(String), language: expect.any(String) });
    expect(backend.requests).toContain('POST /api/push/subscriptions');
    const script = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.scriptURL);
    expect(script).toBe(`${origin}/sw.js`);
  });

  it('shows a push in the module worker', async () => {
    const id = await sendThrough(backend, subscriber, 'From vite dev', (payload) => visitor.push.push(payload));
    // The worker's events reach the backend through the proxy too.
    await backend.untilEvent(id, 'shown');
    expect(await shownTitles(visitor.page)).toEqual(['From vite dev']);
  });

  it('serves the worker source as an ES module at /sw.js', async () => {
    const response = await fetch(`${origin}/sw.js`);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    const text = await response.text();
    // An import statement (of `tidings/worker` as Vite pre-bundled it, an installed dependency):
    // only a { type: 'module' } registration runs this.
    expect(text).toMatch(/\bimport \{ createPushWorker \} from "[^"]+\/tidings_worker\.js\?v=\w+"/);
    expect(text.includes(backend.vapid.publicKey)).toBe(true);
  });
  it("is refused through the proxy's string shorthand (changeOrigin: true), as the recipe warns", async () => {
    // What the page's fetch carries, sent through a Vite whose proxy is the shorthand.
    const shorthand = await createServer({
      root: app,
      configFile: false,
      logLevel: 'silent',
      cacheDir: join(work, 'vite-cache-shorthand'),
      server: { host: '127.0.0.1', port: 0, proxy: { '/api/push': backend.origin } },
    });
    try {
      await shorthand.listen();
      const viaShorthand = `http://127.0.0.1:${(shorthand.httpServer!.address() as AddressInfo).port}`;
      const register = (via: string) => post(`${via}/api/push/subscriptions`, { subscription: subscriber }, via);
      expect(await register(viaShorthand)).toBe(403);
      // The recipe's form, the same request: accepted (the endpoint is known, so 200).
      expect(await register(origin)).toBe(200);
    } finally {
      await shorthand.close();
    }
  });
});

/** POSTs JSON as a same-origin page would (Origin, Sec-Fetch-Site, the session cookie); answers the status. */
function post(url: string, body: unknown, pageOrigin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      timeout: 10_000,
      headers: {
        'content-type': 'application/json',
        origin: pageOrigin,
        'sec-fetch-site': 'same-origin',
        cookie: `${SESSION.name}=${SESSION.value}`,
      },
    });
    req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
