import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, newContext } from './support/chromium.js';
import { attachPushDriver, type PushDriver } from '../../src/testing/index.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';

// The walking skeleton: the built worker bundle, loaded with importScripts() in a real
// Chromium service worker, turns a real push event into a real notification.
describe('dist/tidings-worker.iife.js in Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let push: PushDriver;

  beforeAll(async () => {
    server = await startStaticServer();
    browser = await launchChromium();
    context = await newContext(browser, server.origin);
    page = await context.newPage();
    push = await attachPushDriver(page);
    await page.goto(`${server.origin}/index.html?sw=/sw-skeleton.js`);
    await page.evaluate(() => (window as unknown as { __ready: Promise<boolean> }).__ready);
  });

  afterAll(async () => {
    await push?.detach();
    await browser?.close();
    await server?.close();
  });

  const shownCount = (n: number) =>
    page.waitForFunction((n) => (window as unknown as { __shown: unknown[] }).__shown.length >= n, n);
  const notifications = () =>
    page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const list = await registration.getNotifications();
      return list.map((n) => ({ title: n.title, body: n.body }));
    });

  it('shows the envelope notification for a push', async () => {
    await push.push(JSON.stringify({ v: 1, id: 'm1', notification: { title: 'Hello', body: 'from a real push' } }));
    await shownCount(1);
    expect(await notifications()).toContainEqual({ title: 'Hello', body: 'from a real push' });
  });

  it('shows the default notification for a push that is not an envelope', async () => {
    await push.push('this is not json');
    await shownCount(2);
    expect((await notifications()).map((n) => n.title)).toContain('Skeleton default');
  });
});
