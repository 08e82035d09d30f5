import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { launchFirefox } from './support/firefox.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { createPushServer, generateVapidKeys, memoryStore, toNodeHandler, type PushServer, type SubscriptionStore } from '../../src/server/index.js';
import { startPushService, type PushService } from '../../src/testing/index.js';

// A shared computer in real Firefox ESR, nothing stubbed: alice logs in and subscribes (the
// site's session cookie is what identify reads), logs out (client.logout()), bob logs in
// (client.login()). A send to alice then reaches nothing in that browser; a send to bob
// shows there. The built page and worker bundles, the local push service's WebSocket
// protocol, send() encrypting with VAPID + aes128gcm, Firefox decrypting.

interface SiteWindow {
  Tidings: { createPushClient(options: object): { subscribe(): Promise<unknown>; logout(): Promise<unknown>; login(): Promise<unknown> } };
  client: ReturnType<SiteWindow['Tidings']['createPushClient']>;
  shown: string[];
}

describe('a shared computer in Firefox ESR: alice logs out, bob logs in', () => {
  const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
  let service: PushService;
  let server: StaticServer;
  let store: SubscriptionStore;
  let push: PushServer;
  let browser: Browser;
  let page: Page;
  let profileDir: string;

  beforeAll(async () => {
    service = await startPushService();
    server = await startStaticServer();
    store = memoryStore();
    push = createPushServer({
      vapid,
      store,
      allowLoopbackEndpoints: true,
      // The site's own session: a cookie naming the user, set at login and cleared at logout.
      identify: (request) => {
        const user = /(?:^|;\s*)sid=([a-z]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
        return user ? { user } : undefined;
      },
    });
    const handle = toNodeHandler(push.handler);
    server.route(async (req, res, url) => {
      if (url.pathname === '/login') {
        res.writeHead(200, { 'set-cookie': `sid=${url.searchParams.get('user')}; Path=/; SameSite=Lax`, 'content-type': 'text/plain' }).end('in');
        return true;
      }
      if (url.pathname === '/logout') {
        res.writeHead(200, { 'set-cookie': 'sid=; Path=/; Max-Age=0', 'content-type': 'text/plain' }).end('out');
        return true;
      }
      if (!url.pathname.startsWith('/api/push/')) return false;
      await handle(req, res);
      return true;
    });
    profileDir = mkdtempSync(join(tmpdir(), 'tidings-firefox-'));
    browser = await launchFirefox(service.firefoxPrefs(), profileDir);
    page = await browser.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await service?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  /** Opens the site's page (a new page load, as after a login) and makes its client. */
  const open = async () => {
    await page.goto(`${server.origin}/client.html`);
    await page.evaluate((key) => {
      const w = window as unknown as SiteWindow;
      w.shown = [];
      // The test worker's probe posts each notification it showed.
      navigator.serviceWorker.addEventListener('message', ({ data }) => data?.probe === 'shown' && w.shown.push(data.title));
      const sw = `/worker/sw.js?options=${encodeURIComponent(JSON.stringify({}))}`;
      w.client = w.Tidings.createPushClient({ vapidPublicKey: key, backend: '/api/push', serviceWorker: sw });
    }, vapid.publicKey);
  };
  const shown = () => page.evaluate(() => (window as unknown as SiteWindow).shown);
  const until = async (check: () => Promise<boolean>, what: string, ms = 20_000) => {
    for (const end = Date.now() + ms; !(await check()); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    }
  };

  it('binds the browser to alice, then to nobody, then to bob', async () => {
    await page.goto(`${server.origin}/login?user=alice`);
    await open();
    expect(await page.evaluate(() => (window as unknown as SiteWindow).client.subscribe())).toMatchObject({ subscribed: true, synced: true });
    const [row] = await store.findSubscriptions();
    // Who it is comes from the session; where and in what language from the browser.
    expect(row!.attributes).toMatchObject({ user: 'alice', timeZone: expect.any(String), language: expect.stringMatching(/^[a-z]{2}/) });

    expect(await push.send({ v: 1, id: 'to-alice-1', notification: { title: 'For alice' } }, { to: { attributes: { user: 'alice' } } })).toMatchObject({ sent: 1 });
    await until(async () => (await shown()).includes('For alice'), 'alice’s notification');

    // alice logs out: the page calls logout() while her session still stands, then the site ends it.
    expect(await page.evaluate(() => (window as unknown as SiteWindow).client.logout())).toMatchObject({ subscribed: true, synced: true });
    await page.goto(`${server.origin}/logout`);
    expect((await store.findSubscriptions())[0]!.attributes).not.toHaveProperty('user');

    // bob logs in on the same computer.
    await page.goto(`${server.origin}/login?user=bob`);
    await open();
    expect(await page.evaluate(() => (window as unknown as SiteWindow).client.login())).toMatchObject({ subscribed: true, synced: true });
    const rows = await store.findSubscriptions();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attributes).toMatchObject({ user: 'bob' });

    // A send to alice reaches nothing in this browser; a send to bob shows.
    expect(await push.send({ v: 1, id: 'to-alice-2', notification: { title: 'For alice again' } }, { to: { attributes: { user: 'alice' } } })).toMatchObject({ sent: 0 });
    expect(await push.send({ v: 1, id: 'to-bob', notification: { title: 'For bob' } }, { to: { attributes: { user: 'bob' } } })).toMatchObject({ sent: 1 });
    await until(async () => (await shown()).includes('For bob'), 'bob’s notification');
    // The worker's scope is /worker/: its registration, not `ready`, which waits for one controlling this page.
    const titles = await page.evaluate(async () => (await (await navigator.serviceWorker.getRegistrations())[0]!.getNotifications()).map((n) => n.title));
    expect(titles).toContain('For bob');
    expect(titles).not.toContain('For alice again');
    expect(await shown()).not.toContain('For alice again');
  }, 90_000);
});
