import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, sqliteStore, toNodeHandler, type PushServer, type SubscriptionStore } from '../../src/server/index.js';
import { startPushService, type PushService } from '../../src/testing/index.js';
import { eventually } from './support/demo.js';
import { startDesktopNotifications, type DesktopNotifications } from './support/desktopNotifications.js';
import { launchFirefox } from './support/firefox.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';

// Firefox fires notificationclose after notificationclick when it takes a clicked
// notification away. A click is not a close: the stats of a clicked push must say clicked
// 1, closed 0. The click is a real one: Firefox shows its notifications through the
// desktop's notification service (alerts.useSystemBackend), stood in for on a private
// D-Bus (support/notification-server.py), which clicks the notification as a desktop does.
interface ProbedWindow {
  __probes: { probe: string; title: string }[];
}

describe('a notification clicked in real Firefox ESR', () => {
  let pushService: PushService;
  let desktop: DesktopNotifications;
  let store: SubscriptionStore;
  let push: PushServer;
  let dir: string;
  let site: StaticServer;
  let browser: Browser;
  let page: Page;
  const vapid = { ...generateVapidKeys(), subject: 'mailto:click-close@tidings.example' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-click-close-'));
    desktop = await startDesktopNotifications();
    pushService = await startPushService();
    store = sqliteStore(join(dir, 'tidings.db'));
    push = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
    const api = toNodeHandler(push.handler);
    site = await startStaticServer();
    site.route(async (req, res, url) => {
      if (!url.pathname.startsWith('/api/push/')) return false;
      await api(req, res);
      return true;
    });
    browser = await launchFirefox({ ...pushService.firefoxPrefs(), 'alerts.useSystemBackend': true }, undefined, desktop.env);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await store?.close();
    await pushService?.close();
    await desktop?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `title` to the one subscription; resolves with the message id once its `shown` is counted. */
  const sendAndShow = async (title: string): Promise<string> => {
    const result = await push.send({ v: 1, notification: { title, url: '/insight.html' } }, { by: 'e2e' });
    expect(result).toMatchObject({ sent: 1, failed: 0 });
    await eventually(async () => ((await push.stats.message(result.id))!.shown === 1 ? true : undefined), `${title}: shown, verified`, 30_000);
    return result.id;
  };

  it('counts clicked 1 and closed 0, and the worker sends no closed event for it', async () => {
    page = await browser.newPage();
    await page.goto(`${site.origin}/insight.html`);
    const state = await page.evaluate(
      (key) => (window as unknown as { Tidings: { createPushClient(o: object): { subscribe(): Promise<unknown> } } }).Tidings.createPushClient({ vapidPublicKey: key, backend: '/api/push', serviceWorker: '/click-close-sw.js' }).subscribe(),
      vapid.publicKey,
    );
    expect(state).toMatchObject({ subscribed: true, synced: true });
    await page.evaluate(() => {
      const w = window as unknown as ProbedWindow;
      w.__probes = [];
      navigator.serviceWorker.addEventListener('message', ({ data }) => {
        if (typeof data?.probe === 'string') w.__probes.push(data);
      });
    });

    const title = 'Clicked, not closed';
    const id = await sendAndShow(title);
    desktop.click(await desktop.shown(title));
    // Firefox's close after the click, as the worker heard it (the site's own listener).
    await page.waitForFunction(
      (title) => {
        const probes = (window as unknown as ProbedWindow).__probes.filter((p) => p.title === title).map((p) => p.probe);
        return probes.includes('notificationclick') && probes.includes('notificationclose');
      },
      { timeout: 30_000 },
      title,
    );
    // A later push's events leave the worker's outbox after anything the close recorded,
    // so once they are counted, a `closed` of the first would have been too.
    await sendAndShow('After the click');

    const stats = await eventually(async () => {
      const now = await push.stats.message(id);
      return now!.clicked === 1 ? now : undefined;
    }, 'the click, verified', 30_000);
    expect(stats).toMatchObject({ delivered: 1, shown: 1, clicked: 1, closed: 0 });
    expect(stats.unverified).toMatchObject({ clicked: 0, closed: 0 });
    expect(stats.closeRate).toBe(0);
    expect(await store.listEvents({ messageId: id, type: 'closed' })).toEqual([]);
  });
});
