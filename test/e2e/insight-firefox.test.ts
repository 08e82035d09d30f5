import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, sqliteStore, toNodeHandler, type PushServer, type SubscriptionStore } from '../../src/server/index.js';
import type { MessageStats } from '../../src/server/stats/statsTypes.js';
import { startPushService, type PushService } from '../../src/testing/index.js';
import { launchFirefox } from './support/firefox.js';
import { eventually } from './support/demo.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';

// The funnel, end to end with nothing stubbed but the click: three sites (three origins,
// so three service workers and three push subscriptions in one real Firefox) register with
// one backend; a send reaches all three through the local push service; each tidings
// worker shows it and reports delivered and shown, signed with its subscription's own key;
// one notification is clicked. The stats then say exactly that, and so does the CLI.
const bin = join(import.meta.dirname, '../../bin/tidings.js');

describe('the funnel of one send in real Firefox ESR', () => {
  let pushService: PushService;
  let store: SubscriptionStore;
  let push: PushServer;
  let dir: string;
  let browser: Browser;
  const sites: StaticServer[] = [];
  const pages: Page[] = [];
  const vapid = { ...generateVapidKeys(), subject: 'mailto:insight@tidings.example' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-insight-'));
    pushService = await startPushService();
    store = sqliteStore(join(dir, 'tidings.db'));
    push = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
    const api = toNodeHandler(push.handler);
    for (let i = 0; i < 3; i++) {
      const site = await startStaticServer();
      site.route(async (req, res, url) => {
        if (!url.pathname.startsWith('/api/push/')) return false;
        await api(req, res);
        return true;
      });
      sites.push(site);
    }
    browser = await launchFirefox({ ...pushService.firefoxPrefs() });
  });

  afterAll(async () => {
    await browser?.close();
    for (const site of sites) await site.close();
    await store?.close();
    await pushService?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three subscribe, all three show it, one clicks: targeted 3, sent 3, delivered 3, shown 3, clicked 1', async () => {
    for (const site of sites) {
      const page = await browser.newPage();
      await page.goto(`${site.origin}/insight.html`);
      const state = await page.evaluate(
        (key) => (window as unknown as { Tidings: { createPushClient(o: object): { subscribe(): Promise<unknown> } } }).Tidings.createPushClient({ vapidPublicKey: key, backend: '/api/push', serviceWorker: '/insight-sw.js' }).subscribe(),
        vapid.publicKey,
      );
      expect(state).toMatchObject({ subscribed: true, synced: true });
      pages.push(page);
    }
    const subscriptions = await store.findSubscriptions();
    expect(subscriptions).toHaveLength(3);
    expect(subscriptions.map((s) => s.browser)).toEqual(['firefox', 'firefox', 'firefox']);

    // Its url is the page each site has open, so the click focuses that tab (a script's
    // click has no user activation to open a window with).
    const result = await push.send({ v: 1, notification: { title: 'Three sites, one send', url: '/insight.html' } }, { by: 'e2e' });
    expect(result).toMatchObject({ sent: 3, failed: 0, gone: 0 });
    const id = result.id;
    await eventually(async () => ((await push.stats.message(id))!.shown === 3 ? true : undefined), 'three shown events, verified', 30_000);

    // The click, in the second site's worker.
    await pages[1]!.evaluate(async () => (await navigator.serviceWorker.ready).active!.postMessage({ probe: 'click' }));
    const stats = await eventually(async () => {
      const now = await push.stats.message(id);
      return now!.clicked === 1 ? now : undefined;
    }, 'the click, verified', 30_000);

    expect(stats).toMatchObject({ id, state: 'done', by: 'e2e', targeted: 3, sent: 3, gone: 0, failed: 0, delivered: 3, shown: 3, clicked: 1, closed: 0 });
    expect(stats.unverified).toEqual({ delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0 });
    expect(stats.byBrowser.firefox).toMatchObject({ delivered: 3, shown: 3, clicked: 1 });
    expect(stats.byService.other).toMatchObject({ sent: 3, delivered: 3, shown: 3, clicked: 1 });
    expect(stats.clickRate).toBeCloseTo(1 / 3);

    // The same figures from the command line, read from the same SQLite file.
    const json = spawnSync(process.execPath, [bin, 'stats', id, '--store', join(dir, 'tidings.db'), '--json'], { encoding: 'utf8' });
    expect(json.status, json.stderr).toBe(0);
    const fromCli = JSON.parse(json.stdout) as MessageStats;
    expect(fromCli).toMatchObject({ id, targeted: 3, sent: 3, delivered: 3, shown: 3, clicked: 1 });
    expect(fromCli.workerFailed).toBe(stats.workerFailed);
    const text = spawnSync(process.execPath, [bin, 'stats', id, '--store', join(dir, 'tidings.db')], { encoding: 'utf8' });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/targeted\s+sent\s+gone\s+failed\s+pruned\s+delivered\s+shown\s+clicked[^\n]*\n\s*3\s+3\s+0\s+0\s+0\s+3\s+3\s+1\s/);
    const list = spawnSync(process.execPath, [bin, 'stats', '--store', join(dir, 'tidings.db')], { encoding: 'utf8' });
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+done\\s+3\\s+3\\s+0\\s+3\\s+3\\s+1\\s+33\\.3%\\s+Three sites, one send`));
  });
});
