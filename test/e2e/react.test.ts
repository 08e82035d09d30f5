import { createECDH } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { build } from 'vite';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { contractBackend, type ContractBackend } from './support/contractBackend.js';
import { stubPush } from './support/stubPush.js';

// tidings/react in real Chromium: a tiny React 19 app (fixtures/react-app.js) bundled with
// Vite against the built dist/index.js and dist/react.js, with a real service worker, the
// built tidings worker and a same-origin contract backend. Only the push service and the
// permission prompt are stubbed (support/stubPush), as in client.test.ts.

const root = resolve(import.meta.dirname, '../..');
const KEY = createECDH('prime256v1').generateKeys().toString('base64url');

interface Shown {
  supported: boolean;
  permission: string;
  subscribed: boolean;
  synced: boolean;
  attributes?: Record<string, unknown>;
  pending: boolean;
  error?: string;
}

describe('usePush in a React app in Chromium', () => {
  let server: StaticServer;
  let backend: ContractBackend;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const output = await build({
      configFile: false,
      logLevel: 'silent',
      root,
      define: { 'process.env.NODE_ENV': '"production"' },
      resolve: {
        alias: [
          { find: /^tidings\/react$/, replacement: resolve(root, 'dist/react.js') },
          { find: /^tidings$/, replacement: resolve(root, 'dist/index.js') },
        ],
      },
      build: {
        write: false,
        minify: false,
        lib: { entry: resolve(root, 'test/e2e/fixtures/react-app.js'), formats: ['es'], fileName: 'react-app' },
      },
    });
    const [result] = Array.isArray(output) ? output : [output];
    const app = (result as { output: { type: string; code?: string }[] }).output.find((o) => o.type == 'chunk')!.code!;
    server = await startStaticServer();
    server.route((_req, res, url) => {
      if (url.pathname == '/react-app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(app);
      else if (url.pathname == '/react.html')
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><meta charset="utf-8"><div id="root"></div><script type="module" src="/react-app.js"></script>');
      else return false;
      return true;
    });
    backend = contractBackend(server);
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
    context = await browser.newContext();
    await context.addInitScript(stubPush);
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
  });

  const shown = async (): Promise<Shown> => JSON.parse((await page.locator('#state').textContent()) ?? 'null');
  const settled = () => expect.poll(async () => (await shown())?.pending, { timeout: 15_000 }).toBe(false);

  const locale = { timeZone: expect.any(String), language: expect.any(String) };

  it('shows the state, and clicking Subscribe subscribes: pending while it runs, then subscribed and synced', async () => {
    await page.goto(`${server.origin}/react.html?key=${KEY}`);
    await settled();
    expect(await shown()).toEqual({ supported: true, permission: 'default', subscribed: false, synced: false, pending: false });
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    // The buttons are disabled while the action runs.
    await expect.poll(() => page.getByRole('button', { name: 'Subscribe', exact: true }).isDisabled()).toBe(true);
    await settled();
    // The browser's zone and language are recorded with the subscription (localeAttributes).
    expect(await shown()).toEqual({ supported: true, permission: 'granted', subscribed: true, synced: true, pending: false, attributes: locale });
    expect(backend.requests).toEqual(['POST /subscriptions']);

    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await expect.poll(async () => (await shown()).subscribed).toBe(false);
    await settled();
    expect(backend.requests).toEqual(['POST /subscriptions', expect.stringMatching(/^DELETE \/subscriptions\//)]);
  });

  it('reads a returning subscriber as subscribed on load', async () => {
    await page.goto(`${server.origin}/react.html?key=${KEY}`);
    await settled();
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await expect.poll(async () => (await shown()).synced, { timeout: 15_000 }).toBe(true);
    await page.reload();
    await settled();
    expect(await shown()).toMatchObject({ subscribed: true, synced: true, permission: 'granted' });
    expect(backend.requests).toEqual(['POST /subscriptions']);
  });

  it('setAttributes changes a topic, and after a reload the hook still shows it, nothing sent again', async () => {
    await page.goto(`${server.origin}/react.html?key=${KEY}`);
    await settled();
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await expect.poll(async () => (await shown()).synced, { timeout: 15_000 }).toBe(true);
    await page.getByRole('button', { name: 'Follow sports' }).click();
    await expect.poll(async () => (await shown()).attributes).toEqual({ sports: true, ...locale });
    await settled();
    expect(backend.bodies.at(-1)).toMatchObject({ attributes: { sports: true } });
    await page.reload();
    await settled();
    expect(await shown()).toMatchObject({ subscribed: true, synced: true, attributes: { sports: true } });
    expect(backend.requests).toEqual(['POST /subscriptions', 'POST /subscriptions']);
  });

  it('Ask shows the soft prompt; Allow subscribes', async () => {
    await page.goto(`${server.origin}/react.html?key=${KEY}`);
    await settled();
    await page.getByRole('button', { name: 'Ask' }).click();
    await page.getByRole('dialog', { name: 'Stay in the loop?' }).waitFor();
    await page.getByRole('button', { name: 'Allow' }).click();
    await expect.poll(async () => (await shown()).subscribed, { timeout: 15_000 }).toBe(true);
    await settled();
    expect(await shown()).toMatchObject({ subscribed: true, synced: true, permission: 'granted' });
  });

  it('a refused permission shows as the error, and the app keeps running', async () => {
    await page.goto(`${server.origin}/react.html?key=${KEY}`);
    await page.evaluate(() => localStorage.setItem('stub-answer', 'denied'));
    await settled();
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await expect.poll(async () => (await shown()).error).toBe('permission-denied');
    await settled();
    expect(await shown()).toMatchObject({ permission: 'denied', subscribed: false });
    expect(backend.requests).toEqual([]);
  });

  it('a bad option does not blank the app: it renders unsupported, and an action says why', async () => {
    const errors: string[] = [];
    page.on('console', (message) => message.type() == 'error' && errors.push(message.text()));
    await page.goto(`${server.origin}/react.html?key=not-a-key`);
    await expect.poll(() => shown()).toEqual({ supported: false, permission: 'default', subscribed: false, synced: false, pending: false });
    expect(errors.join()).toMatch(/invalid-option vapidPublicKey must be/);
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await expect.poll(async () => (await shown()).error).toBe('unsupported');
  });
});
