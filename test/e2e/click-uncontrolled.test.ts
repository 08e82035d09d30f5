import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium, newContext } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { eventsRoute, type EventsRoute } from './support/eventsRoute.js';
import { startDesktopNotifications, type DesktopNotifications } from './support/desktopNotifications.js';
import { attachPushDriver, clickNotification } from '../../src/testing/index.js';

// A click on a notification while the site's tab is not controlled by its worker (a
// Workbox or Serwist worker that does not claim clients: fixtures/uncontrolled-sw.js),
// in real Chromium with the built tidings worker. The worker cannot navigate such a tab.
// A real click (the desktop's notification service, stood in for on a private D-Bus,
// clicks it) lets the worker open a window; a click a script dispatches (tidings/testing's
// clickNotification) gets no user activation, so every step fails, and the failed event
// names each one with Chromium's own error.

/** Opens the page, registers the worker (which does not claim it) and waits until it is active. */
async function openUncontrolled(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/index.html`);
  await page.evaluate(async () => {
    await navigator.serviceWorker.register('/uncontrolled-sw.js');
    await navigator.serviceWorker.ready;
  });
}

interface ProbedWindow {
  __shown: string[];
  __clicks: unknown[];
}

/** Pushes a notification for `url` (default: one no open tab is on), and waits until the worker showed it. */
async function pushAndWait(page: Page, id: string, title: string, url = '/client-click-target.html'): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as ProbedWindow;
    w.__shown = [];
    w.__clicks = [];
    navigator.serviceWorker.addEventListener('message', ({ data }) => {
      if (data?.probe == 'shown') w.__shown.push(data.tag);
      if (data?.kind == 'notification-click') w.__clicks.push(data);
    });
  });
  const push = await attachPushDriver(page);
  await push.push({ v: 1, id, notification: { title, tag: id, url } });
  await page.waitForFunction((id) => (window as unknown as ProbedWindow).__shown.includes(id), id);
  await push.detach();
}

describe('a click while the tab is not controlled by the worker (Chromium)', () => {
  let server: StaticServer;
  let events: EventsRoute['events'];

  beforeAll(async () => {
    server = await startStaticServer();
    ({ events } = eventsRoute(server));
  });
  afterAll(async () => {
    await server?.close();
  });

  const until = async (check: () => boolean, what: string, timeout = 20_000) => {
    for (const deadline = Date.now() + timeout; !check(); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  };

  describe('a real click (the desktop notification clicked)', () => {
    let desktop: DesktopNotifications;
    let profile: string;
    let context: BrowserContext;

    beforeAll(async () => {
      desktop = await startDesktopNotifications();
      profile = await mkdtemp(join(tmpdir(), 'tidings-chromium-'));
      // A persistent profile: Chromium hands a desktop click back to it (not to an
      // incognito-like context, which Playwright's newContext() makes).
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM_PATH,
        args: CHROMIUM_ARGS,
        headless: true,
        env: { ...process.env, ...desktop.env } as Record<string, string>,
      });
      await context.grantPermissions(['notifications'], { origin: server.origin });
    });
    afterAll(async () => {
      await context?.close();
      await desktop?.close();
      if (profile) await rm(profile, { recursive: true, force: true });
    });

    it('opens a window on the URL: the uncontrolled tab could not be navigated, and nothing failed', async () => {
      const page = context.pages()[0] ?? (await context.newPage());
      await openUncontrolled(page, server.origin);
      expect(await page.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
      await pushAndWait(page, 'real-1', 'Real click');
      const opened = context.waitForEvent('page');
      desktop.click(await desktop.shown('Real click'));
      const window = await opened;
      await window.waitForURL(`${server.origin}/client-click-target.html`);
      await until(() => events.some((e) => e.type == 'clicked' && e.messageId == 'real-1'), 'the clicked event');
      expect(events.filter((e) => e.type == 'failed' && e.messageId == 'real-1')).toEqual([]);
      // The tab that was there stays where it was.
      expect(page.url()).toBe(`${server.origin}/index.html`);
    });

    it('focuses the uncontrolled tab already on the URL, and tells it of the click', async () => {
      const page = context.pages()[0]!;
      // Start over: no worker, then the page, then the worker (which does not claim it).
      await page.evaluate(async () => {
        for (const registration of await navigator.serviceWorker.getRegistrations()) await registration.unregister();
      });
      await openUncontrolled(page, server.origin);
      expect(await page.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
      await pushAndWait(page, 'real-2', 'Real click here', '/index.html');
      const pages = context.pages().length;
      desktop.click(await desktop.shown('Real click here'));
      await page.waitForFunction(() => (window as unknown as ProbedWindow).__clicks.length > 0);
      expect(await page.evaluate(() => (window as unknown as ProbedWindow).__clicks)).toEqual([
        expect.objectContaining({ kind: 'notification-click', messageId: 'real-2', url: `${server.origin}/index.html` }),
      ]);
      await until(() => events.some((e) => e.type == 'clicked' && e.messageId == 'real-2'), 'the clicked event');
      expect(events.filter((e) => e.type == 'failed' && e.messageId == 'real-2')).toEqual([]);
      expect(context.pages()).toHaveLength(pages);
    });
  });

  describe("a script's click (tidings/testing's clickNotification: no user activation)", () => {
    it('fails, and the failed event names each step with the browser error', async () => {
      const browser = await launchChromium();
      try {
        const context = await newContext(browser, server.origin);
        const page = await context.newPage();
        await openUncontrolled(page, server.origin);
        await pushAndWait(page, 'probe-1', 'Probe click');
        await clickNotification(context, { tag: 'probe-1' });
        await until(() => events.some((e) => e.type == 'failed' && e.messageId == 'probe-1'), 'the failed event');
        const { reason } = events.find((e) => e.type == 'failed' && e.messageId == 'probe-1')!;
        expect(reason).toMatch(
          /^navigate: TypeError: [^;]+; openWindow: InvalidAccessError: Not allowed to open a window\.; focus: InvalidAccessError: Not allowed to focus a window\.$/,
        );
        // The click still counts, and no window opened.
        expect(events.some((e) => e.type == 'clicked' && e.messageId == 'probe-1')).toBe(true);
        expect(context.pages()).toHaveLength(1);
      } finally {
        await browser.close();
      }
    });
  });
});
