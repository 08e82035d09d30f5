import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, newContext } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { createPushServer, generateVapidKeys, memoryStore, toNodeHandler, type PushServer } from '../../src/server/index.js';
import { attachPushDriver, pushManagerStub, startPushService, type PushDriver, type PushService } from '../../src/testing/index.js';
import type { SubscriptionJSON } from '../../src/shared/protocol.js';

// Issue 18: the topics a visitor chose survive reloads. The built page SDK and worker in
// Chromium, against the real tidings backend (identify says who the visitor is,
// `sports` is browser-settable) and the local push service; only pushManager.subscribe is
// stubbed (tidings/testing's pushManagerStub hands out a subscriber of that service).

interface AttributesWindow {
  Tidings: { createPushClient(options: object): Client };
  client: Client;
  __shown: string[];
}
interface Client {
  subscribe(): Promise<{ synced: boolean }>;
  setAttributes(attributes: object): Promise<void>;
  getState(): Promise<{ subscribed: boolean; synced: boolean; attributes?: Record<string, unknown> }>;
}

describe('attributes a visitor chose, across reloads (Chromium, the real backend)', () => {
  const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
  const store = memoryStore();
  let push: PushServer;
  let service: PushService;
  let server: StaticServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let driver: PushDriver;
  let subscriber: SubscriptionJSON;
  /** POSTs the backend answered, in order. */
  const registrations: string[] = [];

  beforeAll(async () => {
    service = await startPushService();
    push = createPushServer({
      vapid,
      store,
      allowLoopbackEndpoints: true,
      identify: () => ({ user: 'alice' }),
      clientAttributes: ['sports'],
    });
    server = await startStaticServer();
    const handler = toNodeHandler(push.handler);
    server.route(async (req, res, url) => {
      if (!url.pathname.startsWith('/api/push/')) return false;
      if (req.method == 'POST' && url.pathname == '/api/push/subscriptions') registrations.push(url.pathname);
      await handler(req, res);
      return true;
    });
    subscriber = await service.subscribe(vapid.publicKey);
    browser = await launchChromium();
    context = await newContext(browser, server.origin);
    await context.addInitScript(pushManagerStub(subscriber));
    page = await context.newPage();
    driver = await attachPushDriver(page);
  });
  afterAll(async () => {
    await driver?.detach();
    await browser?.close();
    await server?.close();
    await service?.close();
  });

  /** Loads (or reloads) the page and makes its client as the docs show it: no `attributes`. */
  const load = async (reload = false) => {
    await (reload ? page.reload() : page.goto(`${server.origin}/client.html`));
    await page.evaluate((key) => {
      const w = window as unknown as AttributesWindow;
      w.__shown = [];
      navigator.serviceWorker.addEventListener('message', ({ data }) => data?.probe == 'shown' && w.__shown.push(data.title));
      // The built worker with the shown probe (fixtures/client-click-sw.js).
      w.client = w.Tidings.createPushClient({ vapidPublicKey: key, backend: '/api/push', serviceWorker: '/client-click-sw.js' });
    }, vapid.publicKey);
  };
  const state = () => page.evaluate(() => (window as unknown as AttributesWindow).client.getState());
  /** Waits until the page's own check at load has had time to re-register: no POST for a second. */
  const settled = async () => {
    await expect.poll(async () => (await state()).synced, { timeout: 15_000 }).toBe(true);
    for (let seen = -1; seen != registrations.length; await new Promise((resolve) => setTimeout(resolve, 1000))) seen = registrations.length;
  };

  const locale = { timeZone: expect.any(String), language: expect.any(String) };

  it('sets attributes, reloads twice, and a send to the topic still reaches the visitor; getState shows them', async () => {
    await load();
    await page.evaluate(async () => {
      const { client } = window as unknown as AttributesWindow;
      await client.subscribe();
      await client.setAttributes({ sports: true });
    });
    const [stored] = await store.findSubscriptions();
    // The browser's zone and language come along (localeAttributes).
    expect(stored?.attributes).toEqual({ sports: true, user: 'alice', ...locale });
    expect(registrations).toHaveLength(2);

    for (const _ of [1, 2]) {
      await load(true);
      await settled();
    }
    // Nothing changed, so the reloads sent nothing, and nothing was dropped.
    expect(registrations).toHaveLength(2);
    expect(await state()).toMatchObject({ subscribed: true, synced: true, attributes: { sports: true } });

    const result = await push.send({ v: 1, id: 'sports-1', notification: { title: 'Goal!' } }, { to: { attributes: { sports: true } } });
    expect(result.sent).toBe(1);
    const payloads = await service.received(subscriber.endpoint);
    expect(payloads).toHaveLength(1);
    await driver.push(payloads[0]!);
    await page.waitForFunction(() => (window as unknown as AttributesWindow).__shown.includes('Goal!'));
  });

  it("setAttributes({}) clears them: the backend keeps who the visitor is, and the browser's zone and language", async () => {
    await page.evaluate(() => (window as unknown as AttributesWindow).client.setAttributes({}));
    expect((await store.findSubscriptions())[0]?.attributes).toEqual({ user: 'alice', ...locale });
    expect((await state()).attributes).toEqual(locale);
    expect((await push.send({ v: 1, notification: { title: 'Goal?' } }, { to: { attributes: { sports: true } } })).sent).toBe(0);
  });
});
