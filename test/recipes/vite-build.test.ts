import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import { installTidings } from './support/tidings.js';
import { SESSION, sendThrough, startBackend, type Backend } from './support/site.js';
import { openVisitor, shownTitles, type Visitor } from './support/browser.js';
import type { SubscriptionJSON } from '../../src/shared/protocol.js';

// docs/recipes.md, "Vite: build": the fixture app built with Vite's own API (the page,
// then the worker as a classic script), served with a real tidings backend, in Chromium.
const app = resolve(import.meta.dirname, 'fixtures/vite-app');

describe('the Vite recipe, built', () => {
  let work: string;
  let outDir: string;
  let backend: Backend;
  let subscriber: SubscriptionJSON;
  let visitor: Visitor;

  beforeAll(async () => {
    installTidings(app);
    work = mkdtempSync(join(tmpdir(), 'tidings-recipe-vite-'));
    outDir = join(work, 'dist');
    backend = await startBackend(outDir);
    // The app's .env, as `tidings vapid` and the docs have it: the public key under the
    // name Vite exposes, and a private key beside it that must never reach a bundle.
    writeFileSync(
      join(work, '.env'),
      `VITE_VAPID_PUBLIC_KEY=${backend.vapid.publicKey}\nVAPID_PRIVATE_KEY=${backend.vapid.privateKey}\n`,
    );
    // `vite build && vite build -c vite.sw.config.js`, into a temporary dist/.
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

  it('builds a page and one classic sw.js with the public key in, and the private key nowhere', () => {
    const files = readdirSync(outDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(files).toContain('sw.js');
    const sw = readFileSync(join(outDir, 'sw.js'), 'utf8');
    // A classic script: no import statement, which only a module registration could run.
    expect(sw).not.toMatch(/^\s*import[\s{*]/m);
    // Booleans, so a failure does not print a whole bundle.
    expect(sw.includes(backend.vapid.publicKey)).toBe(true);
    const leaking = files.filter((file) => readFileSync(join(outDir, file), 'utf8').includes(backend.vapid.privateKey));
    expect(leaking).toEqual([]);
    const page = files.filter((f) => f.startsWith('assets/')).map((f) => readFileSync(join(outDir, f), 'utf8'));
    expect(page.some((text) => text.includes(backend.vapid.publicKey))).toBe(true);
  });

  it('subscribes on a click, and the registration reaches the backend with the session identity', async () => {
    const { page } = visitor;
    await page.goto(backend.origin);
    await page.locator('#subscribe:enabled').click({ timeout: 15_000 });
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toBe('subscribed');
    const stored = await backend.subscriptions();
    expect(stored.map((s) => s.subscription.endpoint)).toEqual([subscriber.endpoint]);
    // The page records the browser's zone and language too (localeAttributes).
    expect(stored[0]!.attributes).toEqual({ user: SESSION.value, timeZone: expect.any(String), language: expect.any(String) });
    // The SDK registered the built worker itself, inside subscribe().
    const script = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.scriptURL);
    expect(script).toBe(`${backend.origin}/sw.js`);
  });

  it('shows a push sent by the backend', async () => {
    const id = await sendThrough(backend, subscriber, 'Built with Vite', (payload) => visitor.push.push(payload));
    // The worker's `shown` event reaches the backend once showNotification resolved.
    await backend.untilEvent(id, 'shown');
    expect(await shownTitles(visitor.page)).toEqual(['Built with Vite']);
  });
});
