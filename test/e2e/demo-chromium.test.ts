import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newContext } from './support/chromium.js';
import { attachPushDriver, pushManagerStub, type PushDriver } from '../../src/testing/index.js';
import { eventually, startDemo, untilEvent, type Demo } from './support/demo.js';
import type { Envelope, SubscriptionJSON } from '../../src/shared/protocol.js';

// Chromium cannot subscribe here, so its PushManager hands out a headless subscriber of
// the demo's push service. Everything else is real: the demo backend encrypts to that
// subscriber, the push service keeps the bytes, and the worker gets exactly the
// plaintext the browser would have decrypted, through a real push event.
describe('the demo in real Chromium', () => {
  let demo: Demo;
  let dataDir: string;
  let browser: Browser;
  let page: Page;
  let push: PushDriver;
  let subscriber: SubscriptionJSON;

  /** Delivers what the push service holds for the subscriber, as Chromium would. */
  const deliverQueued = async () => {
    const payloads = await demo.pushService.received(subscriber.endpoint);
    for (const payload of payloads) await push.push(payload);
    return payloads;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tidings-demo-'));
    demo = await startDemo(dataDir);
    subscriber = await demo.pushService.subscribe(demo.vapid.publicKey);
    browser = await launchChromium();
    const context = await newContext(browser, demo.origin);
    await context.addInitScript(pushManagerStub(subscriber));
    page = await context.newPage();
    await page.setViewportSize({ width: 1100, height: 900 });
    push = await attachPushDriver(page);
    await page.goto(demo.url);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await push?.detach();
    await browser?.close();
    await demo?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('subscribes through the soft prompt and registers with the backend', async () => {
    // Permission is granted already, so the soft prompt subscribes without showing itself.
    await page.click('#soft-prompt');
    await expect.poll(() => page.textContent('#action-result')).toContain('subscribed');
    const stored = await demo.store.findSubscriptions();
    expect(stored.map((s) => s.subscription.endpoint)).toEqual([subscriber.endpoint]);
    expect(stored[0]!.sealKey).toBeDefined();
    // Who the visitor is came from the demo's session cookie, through identify: the page sent no attributes.
    const [cookie] = (await page.context().cookies()).filter((c) => c.name === 'tidings-demo-visitor');
    expect(cookie?.httpOnly).toBe(true);
    expect(stored[0]!.attributes).toEqual({ visitor: cookie!.value, timeZone: expect.any(String), language: expect.any(String) });
  });

  it('refuses a registration from a page with no session, and one sent cross-site', async () => {
    const body = JSON.stringify({ subscription: { ...subscriber, endpoint: `${subscriber.endpoint}-other` } });
    const anonymous = await fetch(`${demo.origin}/api/push/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(anonymous.status).toBe(401);
    const [cookie] = (await page.context().cookies()).filter((c) => c.name === 'tidings-demo-visitor');
    const crossSite = await fetch(`${demo.origin}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `${cookie!.name}=${cookie!.value}`, origin: 'https://evil.example' },
      body,
    });
    expect(crossSite.status).toBe(403);
    const asForm = await fetch(`${demo.origin}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', cookie: `${cookie!.name}=${cookie!.value}` },
      body,
    });
    expect(asForm.status).toBe(415);
    expect(await demo.store.findSubscriptions()).toHaveLength(1);
  });

  it('turns a sealed send from the form into a notification, a tab message and analytics', async () => {
    await page.fill('input[name="title"]', 'Hello from the demo');
    await page.check('input[name="sealed"]');
    await page.click('#send-form button[type="submit"]');
    await expect.poll(() => page.textContent('#send-result')).toContain('Sent to 1');
    const [payload] = await eventually(async () => {
      const got = await deliverQueued();
      return got.length ? got : undefined;
    }, 'the pushed message');
    const outer = JSON.parse(payload!) as Envelope;
    expect(Object.keys(outer).sort()).toEqual(['id', 'sealed', 'v']);
    await untilEvent(demo, outer.id!, 'shown');
    const notifications = await page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body })),
    );
    expect(notifications).toContainEqual({ title: 'Hello from the demo', body: 'This came through the local push service.' });
    await expect.poll(() => page.textContent('#messages')).toContain('Hello from the demo');
    await expect.poll(() => page.textContent('#events'), { timeout: 5000 }).toContain('shown');
    const cached = await page.evaluate(async () => Boolean(await caches.match('/article.html')));
    expect(cached).toBe(true);
    const shot = await page.screenshot({ fullPage: true });
    expect(shot.length).toBeGreaterThan(10_000);
    // `TIDINGS_SCREENSHOT=1 npm run test:browser` refreshes the README's picture.
    if (process.env.TIDINGS_SCREENSHOT) writeFileSync(resolve(import.meta.dirname, '../../docs/demo.png'), shot);
  });

  it('sends no request to the backend on a reload where nothing changed', async () => {
    const requests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/push/')) requests.push(`${request.method()} ${request.url()}`);
    });
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await expect.poll(() => page.textContent('#state')).toContain('synced');
    expect(await page.textContent('#state')).toContain('true');
    expect(requests).toEqual([]);
  });
});
