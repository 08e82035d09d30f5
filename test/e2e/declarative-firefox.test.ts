import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { launchFirefox } from './support/firefox.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { createPushServer, generateVapidKeys, memoryStore, type PushServer } from '../../src/server/index.js';
import { startPushService, type PushService } from '../../src/testing/index.js';
import type { SubscriptionJSON } from '../../src/shared/protocol.js';
import { eventsRoute, type BackendEvent } from './support/eventsRoute.js';

// Declarative Web Push in real Firefox ESR, nothing stubbed: Firefox subscribes through the
// local push service's WebSocket protocol, send(…, { declarative: true }) encrypts with
// VAPID + aes128gcm, Firefox decrypts and, as ESR 153 does not show declarative messages
// itself (PUSH-FACTS 7), hands the raw JSON to the built tidings worker, which renders it.

describe('Declarative Web Push in Firefox ESR (local push service, nothing stubbed)', () => {
  const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
  let service: PushService;
  let server: StaticServer;
  let push: PushServer;
  let browser: Browser;
  let page: Page;
  let profileDir: string;
  let events: BackendEvent[];

  beforeAll(async () => {
    service = await startPushService();
    server = await startStaticServer();
    ({ events } = eventsRoute(server));
    const store = memoryStore();
    push = createPushServer({ vapid, store, siteUrl: `${server.origin}/`, allowLoopbackEndpoints: true });
    profileDir = mkdtempSync(join(tmpdir(), 'tidings-firefox-'));
    browser = await launchFirefox(service.firefoxPrefs(), profileDir);
    page = await browser.newPage();
    const sw = `/worker/sw.js?options=${encodeURIComponent(JSON.stringify({ backend: '/api/push' }))}`;
    await page.goto(`${server.origin}/worker/index.html?sw=${encodeURIComponent(sw)}`);
    await page.evaluate(() => (window as unknown as { __ready: Promise<boolean> }).__ready);
    const subscription = (await page.evaluate(async (key) => {
      const registration = await navigator.serviceWorker.ready;
      const made = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      return made.toJSON();
    }, vapid.publicKey)) as SubscriptionJSON;
    await store.saveSubscription({ subscription });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await service?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  const until = async (check: () => boolean | Promise<boolean>, what: string, timeout = 30_000) => {
    for (const deadline = Date.now() + timeout; !(await check()); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  };
  const eventOf = (type: string, messageId: string, reason?: string) =>
    events.some((e) => e.type === type && e.messageId === messageId && (reason === undefined || e.reason === reason));
  const notifications = () =>
    page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, data: n.data })),
    );
  const shownTitles = () => page.evaluate(() => (window as unknown as { __shown: { title: string }[] }).__shown.map((s) => s.title));

  it('renders a declarative send with navigate made absolute; a badge where Firefox has none costs nothing', async () => {
    const result = await push.send(
      { v: 1, id: 'ffd1', appBadge: 3, notification: { title: 'Declared in Firefox', body: 'decrypted by Firefox', url: '/articles/1' } },
      { declarative: true },
    );
    expect(result).toMatchObject({ sent: 1, failed: 0 });
    await until(() => eventOf('shown', 'ffd1'), 'shown');
    const [notification] = (await notifications()).filter((n) => n.title === 'Declared in Firefox');
    expect(notification).toMatchObject({ body: 'decrypted by Firefox' });
    expect(notification!.data.__tidings).toMatchObject({ messageId: 'ffd1', url: `${server.origin}/articles/1` });
    expect(events.filter((e) => e.messageId === 'ffd1').map((e) => e.type).sort()).toEqual(['delivered', 'shown']);
  });

  it('shows a mutable declarative message once when the sender sends it twice', async () => {
    for (let i = 0; i < 2; i++) {
      const result = await push.send({ v: 1, id: 'ffd2', data: { n: 1 }, notification: { title: 'Once in Firefox' } }, { declarative: true });
      expect(result.sent).toBe(1);
    }
    await until(() => eventOf('failed', 'ffd2', 'replayed'), 'the replay to be refused');
    expect((await shownTitles()).filter((t) => t === 'Once in Firefox')).toHaveLength(1);
  });
});
