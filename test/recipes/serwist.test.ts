import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import { installTidings } from './support/tidings.js';
import { SESSION, sendThrough, startBackend, type Backend } from './support/site.js';
import { openVisitor, shownTitles, type Visitor } from './support/browser.js';
import type { SubscriptionJSON } from '../../src/shared/protocol.js';

// docs/recipes.md, "Serwist (or Workbox) beside tidings": one worker, Serwist precaching
// the Vite build and tidings handling pushes; the site registers it at load.
const app = resolve(import.meta.dirname, 'fixtures/serwist-app');

describe('the Serwist recipe: precaching and tidings in one worker', () => {
  let work: string;
  let outDir: string;
  let backend: Backend;
  let subscriber: SubscriptionJSON;
  let visitor: Visitor;

  beforeAll(async () => {
    installTidings(app);
    work = mkdtempSync(join(tmpdir(), 'tidings-recipe-serwist-'));
    outDir = join(work, 'dist');
    backend = await startBackend(outDir);
    writeFileSync(join(work, '.env'), `VITE_VAPID_PUBLIC_KEY=${backend.vapid.publicKey}\n`);
    const inline = { root: app, envDir: work, logLevel: 'warn' as const };
    await build({ ...inline, configFile: join(app, 'vite.config.js'), build: { outDir, emptyOutDir: true } });
    await build({ ...inline, configFile: join(app, 'vite.sw.config.js'), build: { outDir } });
    subscriber = await backend.pushService.subscribe(backend.vapid.publicKey);
    visitor = await openVisitor(backend.origin, subscriber);
  });

  afterAll(async () => {
    await visitor?.close();
    await backend?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('injects the precache manifest into the built sw.js', () => {
    const sw = readFileSync(join(outDir, 'sw.js'), 'utf8');
    expect(sw.includes('__SW_MANIFEST')).toBe(false);
    expect(sw).toMatch(/"url":"index\.html","revision":"[0-9a-f]+"/);
  });

  it('precaches the site for a visitor who never subscribes, and serves it from the cache', async () => {
    const { page } = visitor;
    await page.goto(backend.origin);
    // clientsClaim: the first page comes under the worker once it activates.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 20_000 });
    const precache = await page.evaluate(async () => {
      const names = await caches.keys();
      const cache = await caches.open(names.find((name) => name.includes('precache'))!);
      return (await cache.keys()).map((request) => new URL(request.url).pathname).sort();
    });
    expect(precache).toContain('/index.html');
    expect(precache.some((path) => /^\/assets\/.+\.js$/.test(path))).toBe(true);

    const before = backend.requests.length;
    await page.reload();
    await page.locator('#subscribe:enabled').waitFor({ timeout: 15_000 });
    // The page and its script came from the precache: the server saw no request for them.
    const seen = backend.requests.slice(before);
    expect(seen.filter((request) => /^GET \/(index\.html)?$|^GET \/assets\//.test(request))).toEqual([]);
    // Nothing about push happened for this visitor: nothing registered, no request to the backend.
    expect(await backend.subscriptions()).toEqual([]);
    expect(backend.requests.filter((request) => request.includes('/api/push'))).toEqual([]);
  });

  it('subscribes on a click through the same registration, and shows a push', async () => {
    const { page } = visitor;
    await page.locator('#subscribe:enabled').click();
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toBe('subscribed');
    const stored = await backend.subscriptions();
    expect(stored.map((s) => s.subscription.endpoint)).toEqual([subscriber.endpoint]);
    // The page records the browser's zone and language too (localeAttributes).
    expect(stored[0]!.attributes).toEqual({ user: SESSION.value, timeZone: expect.any(String), language: expect.any(String) });
    const scripts = await page.evaluate(async () =>
      (await navigator.serviceWorker.getRegistrations()).map((r) => r.active?.scriptURL),
    );
    expect(scripts).toEqual([`${backend.origin}/sw.js`]);

    const id = await sendThrough(backend, subscriber, 'Beside Serwist', (payload) => visitor.push.push(payload));
    await backend.untilEvent(id, 'shown');
    expect(await shownTitles(page)).toEqual(['Beside Serwist']);
    // Precaching is still intact after the push.
    expect(await page.evaluate(async () => Boolean(await caches.match('/index.html', { ignoreSearch: true })))).toBe(true);
  });
});
