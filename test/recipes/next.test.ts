import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBuilt, installTidings } from './support/tidings.js';
import { SESSION } from './support/site.js';
import { nextBuild, nextStart, type NextServer } from './support/next.js';
import { openVisitor, shownTitles, type Visitor } from './support/browser.js';
import type { PushService } from '../../src/testing/index.js';
import type { SubscriptionJSON, TidingsEvent } from '../../src/shared/protocol.js';

// docs/recipes.md, "Next.js (app router)": the fixture app built by `next build` and run
// by `next start`, the tidings backend mounted as its route handler (bundled by Next like
// the app's own code: the app has no next.config at all), and a page that uses
// tidings/react's usePush, prerendered at build, in Chromium. The store lives in the Next
// process, so the test reads it and sends through the app's test-only routes
// (app/api/debug/); the push service runs here, on loopback.
const app = resolve(import.meta.dirname, 'fixtures/next-app');

describe('the Next.js recipe, built and started', () => {
  let pushService: PushService;
  let vapid: { publicKey: string; privateKey: string };
  let next: NextServer;
  let subscriber: SubscriptionJSON;
  let visitor: Visitor;

  beforeAll(async () => {
    installTidings(app);
    // public/ is served as it is: the worker script beside the fixture's public/sw.js.
    cpSync(join(app, 'node_modules/tidings/dist/tidings-worker.iife.js'), join(app, 'public/tidings-worker.iife.js'));
    const { server, testing } = await importBuilt();
    pushService = await testing.startPushService();
    vapid = server.generateVapidKeys();
    // As a .env.local would hold them: the public key twice (NEXT_PUBLIC_ for the page),
    // the private key beside it, which must reach no file the browser can load.
    const keys = {
      NEXT_PUBLIC_VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:recipes@example.com',
    };
    rmSync(join(app, '.next'), { recursive: true, force: true });
    await nextBuild(app, keys);
    next = await nextStart(app, { ...keys, TIDINGS_ALLOW_LOOPBACK: '1', TIDINGS_RECIPE_DEBUG: '1' });
    subscriber = await pushService.subscribe(vapid.publicKey);
    visitor = await openVisitor(next.origin, subscriber);
  }, 150_000); // `next build` alone takes 30-60 s on two busy cores

  afterAll(async () => {
    await visitor?.close();
    await next?.close();
    await pushService?.close();
  });

  const debug = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${next.origin}/api/debug/${path}`, init);
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}\n${next.output()}`);
    return response.json();
  };

  it('builds browser files with the public key in, and the private key nowhere', () => {
    const dir = join(app, '.next/static');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(dir, f), 'utf8'));
    // Booleans, so a failure does not print a whole bundle.
    expect(files.some((text) => text.includes(vapid.publicKey))).toBe(true);
    expect(files.some((text) => text.includes(vapid.privateKey))).toBe(false);
  });

  it('needs no next.config: tidings/server is bundled with the route, and the usePush page is prerendered', () => {
    expect(existsSync(join(app, 'next.config.mjs')) || existsSync(join(app, 'next.config.js'))).toBe(false);
    // Prerendered at build: the hook rendered on the server as `pending`, nothing known yet.
    const html = readFileSync(join(app, '.next/server/app/index.html'), 'utf8');
    expect(html).toMatch(/<button id="subscribe" disabled="">Notify me<\/button>/);
    // tidings/server went into the server bundle (not left to node_modules by the config).
    const server = readdirSync(join(app, '.next/server'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(app, '.next/server', f), 'utf8'));
    expect(server.some((text) => text.includes('missing-dependency'))).toBe(true);
    expect(server.some((text) => text.includes('"tidings/server"'))).toBe(false);
  });

  it('answers the contract from the route handler: 401 without a session, 403 from another site', async () => {
    const register = (origin: string) =>
      fetch(`${next.origin}/api/push/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ subscription: subscriber }),
      });
    // Same site, no cookie: identify answers null, so the handler answers 401. A 403 here
    // would mean the route handed the handler Next's own URL (localhost), not the Host.
    expect((await register(next.origin)).status).toBe(401);
    // The same-site check still holds with the URL on the Host header.
    expect((await register('http://elsewhere.example')).status).toBe(403);
    expect(await debug('subscriptions')).toEqual([]);
  });

  it('subscribes on a click, and the registration reaches the route handler with the session identity', async () => {
    const { page } = visitor;
    await page.goto(next.origin);
    await page.locator('#subscribe:enabled').click({ timeout: 15_000 });
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toBe('subscribed');
    // The page records the browser's zone and language too (localeAttributes).
    expect(await debug('subscriptions')).toEqual([{ endpoint: subscriber.endpoint, attributes: { user: SESSION.value, timeZone: expect.any(String), language: expect.any(String) } }]);
    // The SDK registered public/sw.js itself, inside subscribe().
    const script = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.scriptURL);
    expect(script).toBe(`${next.origin}/sw.js`);
  });

  it('shows a push sent from a Next.js route', async () => {
    const title = 'Sent by Next.js';
    const result = await debug('send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title, user: SESSION.value }),
    });
    expect(result.sent).toBe(1);
    // What the Next process encrypted reached the local push service; hand it to Chromium
    // as its own push service would, through the DevTools protocol.
    const payloads = await pushService.received(subscriber.endpoint);
    expect(payloads).toHaveLength(1);
    await visitor.push.push(payloads[0]!);
    // The worker reports `shown` to /api/push once showNotification resolved.
    await expect
      .poll(async () => ((await debug(`events?messageId=${result.id}`)) as TidingsEvent[]).map((e) => e.type), { timeout: 20_000 })
      .toContain('shown');
    expect(await shownTitles(visitor.page)).toEqual([title]);
  });
});
