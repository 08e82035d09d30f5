import { createECDH } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, newContext } from './support/chromium.js';
import { attachPushDriver, clickNotification, type PushDriver } from '../../src/testing/index.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';

// client.onNotificationClick in real Chromium, against the built bundles: a real push
// (DevTools) makes the real tidings worker show a real notification; tidings/testing's
// clickNotification dispatches the click headless Chromium cannot make; the worker finds
// the tab and posts to it; the page SDK hears it.

const KEY = createECDH('prime256v1').generateKeys().toString('base64url');

interface ClickWindow {
  Tidings: { createPushClient(options: object): { onNotificationClick(fn: (click: unknown) => void): () => void } };
  client: { onNotificationClick(fn: (click: unknown) => void): () => void };
  __clicks: unknown[];
  __after: unknown[];
  __stop?: () => void;
  __shown: { tag?: string }[];
}

describe('onNotificationClick in Chromium', () => {
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
  });
  afterAll(async () => {
    await push?.detach();
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    // The tab on /client.html, its client registering the worker at load (no subscribe
    // needed: the push goes straight to the registration).
    await page.goto(`${server.origin}/client.html`);
    await page.evaluate((key) => {
      const w = window as unknown as ClickWindow;
      localStorage.setItem('test-key', key);
      w.__clicks = [];
      w.__shown = [];
      navigator.serviceWorker.addEventListener('message', (event) => {
        if (event.data?.probe == 'shown') w.__shown.push(event.data);
      });
      w.client = w.Tidings.createPushClient({
        vapidPublicKey: key,
        backend: '/api/push',
        serviceWorker: '/client-click-sw.js',
        registerServiceWorker: 'load',
      });
      w.__stop = w.client.onNotificationClick((click) => w.__clicks.push(click));
    }, KEY);
    await push.activeRegistration();
  });

  /** Pushes a notification, waits until the worker showed it, and clicks it (a probe: no user activation). */
  const showAndClick = async (notification: object, tag: string, action = '') => {
    await push.push(JSON.stringify({ v: 1, id: `m-${tag}`, notification: { title: 'Reply waiting', tag, ...notification } }));
    await page.waitForFunction((tag) => (window as unknown as ClickWindow).__shown.some((s) => s.tag == tag), tag);
    return clickNotification(context, { tag, action });
  };

  it('a click on a notification whose URL is this tab reaches the listener, with the message id, action and data', async () => {
    await showAndClick(
      {
        url: '/client.html',
        data: { articleId: 42 },
        actions: [{ action: 'reply', title: 'Reply', url: '/client.html' }],
      },
      'c1',
      'reply',
    );
    await page.waitForFunction(() => (window as unknown as ClickWindow).__clicks.length > 0);
    expect(await page.evaluate(() => (window as unknown as ClickWindow).__clicks)).toEqual([
      expect.objectContaining({ action: 'reply', messageId: 'm-c1', url: `${server.origin}/client.html`, data: { articleId: 42 } }),
    ]);
  });

  it('after the returned function is called, a click reaches it no more', async () => {
    await page.evaluate(() => (window as unknown as ClickWindow).__stop!());
    // A second listener shows the click did arrive.
    await page.evaluate(() => {
      const w = window as unknown as ClickWindow;
      w.__after = [];
      w.client.onNotificationClick((click) => w.__after.push(click));
    });
    await showAndClick({ url: '/client.html' }, 'c2');
    await page.waitForFunction(() => (window as unknown as ClickWindow).__after.length > 0);
    expect(await page.evaluate(() => (window as unknown as ClickWindow).__clicks)).toEqual([]);
  });

  it('a tab the click navigates hears it when its client listens as the page loads', async () => {
    // The page must be controlled for navigate(): the fixture worker claims its clients.
    await page.waitForFunction(() => !!navigator.serviceWorker.controller);
    const url = `${server.origin}/client-click-target.html`;
    const message = { source: 'tidings', kind: 'notification-click', action: '', messageId: 'm-nav', url };
    await page.evaluate(
      ({ url, message }) => navigator.serviceWorker.controller!.postMessage({ probe: 'navigate-and-post', url, message }),
      { url, message },
    );
    await page.waitForURL(url);
    await page.waitForFunction(() => (window as unknown as ClickWindow).__clicks?.length > 0);
    expect(await page.evaluate(() => (window as unknown as ClickWindow).__clicks)).toEqual([expect.objectContaining({ messageId: 'm-nav', url })]);
  });
});
