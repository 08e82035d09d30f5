import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { launchFirefox } from './support/firefox.js';
import { eventTypes, eventually, startDemo, untilEvent, type Demo } from './support/demo.js';
import type { StoredSubscription } from '../../src/server/stores/SubscriptionStore.js';

// The whole flow with nothing stubbed: Firefox subscribes through the local push
// service's WebSocket protocol, the demo backend keeps the subscription in SQLite,
// send() encrypts with VAPID + aes128gcm, Firefox decrypts, the tidings worker shows
// the notification and its analytics reach the backend.
describe('the demo in real Firefox ESR, nothing stubbed', () => {
  let demo: Demo;
  let dataDir: string;
  let profileDir: string;
  let browser: Browser;
  let page: Page;
  let subscription: StoredSubscription;

  const launch = async () => {
    browser = await launchFirefox({ ...demo.pushService.firefoxPrefs() }, profileDir);
    page = await browser.newPage();
    await page.goto(demo.url);
    await page.waitForSelector('body[data-ready="true"]');
  };
  const notificationTitles = () =>
    page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).map((n) => n.title);
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tidings-demo-'));
    profileDir = mkdtempSync(join(tmpdir(), 'tidings-firefox-'));
    demo = await startDemo(dataDir);
    await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it('subscribes through the push service and registers the subscription and seal key in SQLite', async () => {
    const state = await page.evaluate(() => (window as unknown as { demoClient: { subscribe(): Promise<unknown> } }).demoClient.subscribe());
    expect(state).toMatchObject({ permission: 'granted', subscribed: true, synced: true });
    const [stored] = await demo.store.findSubscriptions();
    expect(stored).toBeDefined();
    subscription = stored!;
    expect(new URL(subscription.subscription.endpoint).origin).toBe(new URL(demo.pushService.firefoxPrefs()['dom.push.serverURL'] as string).origin.replace('ws:', 'http:'));
    expect(subscription.subscription.keys.p256dh).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(subscription.sealKey?.p256dh).toMatch(/^[A-Za-z0-9_-]{87}$/);
  });

  it('delivers a sealed envelope that Firefox decrypts and the worker opens and shows', async () => {
    const result = await demo.push.send({ v: 1, id: 'ff-sealed', notification: { title: 'Sealed in Firefox', body: 'end to end' } }, { to: subscription.id });
    expect(result).toMatchObject({ sent: 1, failed: 0 });
    await untilEvent(demo, 'ff-sealed', 'shown');
    expect(await notificationTitles()).toContain('Sealed in Firefox');
    expect(await eventTypes(demo, 'ff-sealed')).toEqual(['delivered', 'shown']);
  });

  it('delivers a plain envelope too', async () => {
    await demo.push.send({ v: 1, id: 'ff-plain', notification: { title: 'Plain in Firefox' } }, { to: subscription.id, seal: false });
    await untilEvent(demo, 'ff-plain', 'shown');
    expect(await notificationTitles()).toContain('Plain in Firefox');
  });

  it("counts the page's own events, signed with its subscription's key, and shows the funnel of what the page sent", async () => {
    // The sends above went to this subscription: their events are verified, none unverified.
    expect(await demo.push.stats.message('ff-sealed')).toMatchObject({ targeted: 1, sent: 1, delivered: 1, shown: 1, unverified: { delivered: 0, shown: 0 }, byBrowser: { firefox: { shown: 1 } } });
    await page.click('#send-form button[type="submit"]');
    await page.waitForFunction(() => document.querySelector('#funnel tbody tr td:nth-child(6)')?.textContent === '1', { timeout: 20_000 });
    const cells = await page.$$eval('#funnel tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
    expect(cells.slice(1)).toEqual(['Hello from tidings', '1', '1', '1', '1', '0', '0', '0']);
    expect(await page.$eval('#funnel-empty', (p) => (p as HTMLElement).hidden)).toBe(true);
  });

  it('replaces a pending message of the same topic while the browser is away', async () => {
    await browser.close();
    const topic = 'score';
    expect((await demo.push.send({ v: 1, id: 'ff-topic-1', notification: { title: 'Score 1-0' } }, { to: subscription.id, topic })).sent).toBe(1);
    expect((await demo.push.send({ v: 1, id: 'ff-topic-2', notification: { title: 'Score 2-0' } }, { to: subscription.id, topic })).sent).toBe(1);
    await launch();
    await untilEvent(demo, 'ff-topic-2', 'shown');
    expect(await notificationTitles()).toContain('Score 2-0');
    expect(await notificationTitles()).not.toContain('Score 1-0');
    expect(await eventTypes(demo, 'ff-topic-1')).toEqual([]);
  });

  it('survives a push service that forgets the browser: pushsubscriptionchange, a new subscription, the old one replaced', async () => {
    const before = subscription;
    expect(demo.pushService.resetUserAgents()).toBe(1);
    // Firefox reconnects, is handed a new uaid, drops its subscriptions and fires
    // pushsubscriptionchange; the tidings worker subscribes again with the VAPID key the
    // page registered and replaces the backend's registration (DELETE, then POST).
    const [after] = await eventually(async () => {
      const rows = await demo.store.findSubscriptions();
      return rows.length == 1 && rows[0]!.id != before.id ? rows : undefined;
    }, 'the registration of the new subscription', 40_000);
    expect(after!.subscription.endpoint).not.toBe(before.subscription.endpoint);
    expect(after!.sealKey).toEqual(before.sealKey);
    await eventually(async () => ((await demo.store.listEvents({ type: 'resubscribed' })).length ? true : undefined), 'resubscribed');
    subscription = after!;

    const result = await demo.push.send({ v: 1, id: 'ff-after-reset', notification: { title: 'After the reset' } }, { to: subscription.id });
    expect(result).toMatchObject({ sent: 1, failed: 0 });
    await untilEvent(demo, 'ff-after-reset', 'shown');
    expect(await notificationTitles()).toContain('After the reset');
  });

  it('prunes an expired subscription after a send', async () => {
    const [extra] = await demo.store.findSubscriptions();
    demo.pushService.expire(extra!.subscription.endpoint);
    const result = await demo.push.send({ v: 1, id: 'ff-gone', notification: { title: 'Gone' } }, { to: extra!.id });
    expect(result).toMatchObject({ sent: 0, gone: 1 });
    expect(await demo.store.findSubscriptions()).toEqual([]);
  });

  it('unsubscribe() removes the subscription from the store', async () => {
    // The previous test expired the old one at the push service: subscribe afresh.
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      await (await registration.pushManager.getSubscription())?.unsubscribe();
    });
    const state = await page.evaluate(() => (window as unknown as { demoClient: { subscribe(): Promise<unknown> } }).demoClient.subscribe());
    expect(state).toMatchObject({ subscribed: true, synced: true });
    expect(await demo.store.findSubscriptions()).toHaveLength(1);
    const after = await page.evaluate(() => (window as unknown as { demoClient: { unsubscribe(): Promise<unknown> } }).demoClient.unsubscribe());
    expect(after).toMatchObject({ subscribed: false });
    expect(await demo.store.findSubscriptions()).toEqual([]);
  });
});
