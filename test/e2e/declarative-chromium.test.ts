import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newContext } from './support/chromium.js';
import { attachPushDriver, type PushDriver } from '../../src/testing/index.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { markRetry } from '../../src/server/send/markRetry.js';
import { toDeclarative } from '../../src/server/send/toDeclarative.js';
import type { Envelope } from '../../src/shared/protocol.js';
import { eventsRoute, type BackendEvent } from './support/eventsRoute.js';

// Declarative Web Push in real Chromium, which has no declarative feature of its own: the
// JSON the server's toDeclarative writes, pushed through the DevTools protocol to the built
// dist/tidings-worker.iife.js, is rendered by the worker. The probes report each shown
// notification and each setAppBadge/clearAppBadge call (test/e2e/fixtures).

interface Reported {
  probe: string;
  title?: string;
  count?: number;
  error?: string;
}
describe('Declarative Web Push in Chromium (built worker, CDP pushes)', () => {
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let push: PushDriver;
  let events: BackendEvent[];

  beforeAll(async () => {
    server = await startStaticServer();
    ({ events } = eventsRoute(server));
    browser = await launchChromium();
    const context = await newContext(browser, server.origin);
    page = await context.newPage();
    push = await attachPushDriver(page);
    const options = { backend: '/api/push', defaultNotification: { title: 'E2E default' } };
    const sw = `/worker/sw.js?options=${encodeURIComponent(JSON.stringify(options))}`;
    await page.goto(`${server.origin}/worker/index.html?sw=${encodeURIComponent(sw)}`);
    await page.evaluate(() => (window as unknown as { __ready: Promise<boolean> }).__ready);
  });

  afterAll(async () => {
    await push?.detach();
    await browser?.close();
    await server?.close();
  });

  const declarative = (envelope: Envelope) => JSON.stringify(toDeclarative(envelope, `${server.origin}/`));
  const shown = () => page.evaluate(() => (window as unknown as { __shown: Reported[] }).__shown);
  const badges = () =>
    page.evaluate(() => (window as unknown as { __messages: Reported[] }).__messages.filter((m) => m && m.probe === 'badge'));
  const until = async (check: () => Promise<boolean> | boolean, what: string, timeout = 30_000) => {
    for (const deadline = Date.now() + timeout; !(await check()); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  };
  const eventOf = (type: string, messageId: string, reason?: string) =>
    events.some((e) => e.type === type && e.messageId === messageId && (reason === undefined || e.reason === reason));

  it('renders a declarative message: title, body and navigate made absolute, analytics by its id', async () => {
    await push.push(declarative({ v: 1, id: 'dc1', notification: { title: 'Declared', body: 'by JSON', tag: 'dc1', url: '/articles/1' } }));
    await until(async () => (await shown()).length >= 1, 'the notification');
    const list = await page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })),
    );
    const notification = list.find((n) => n.tag === 'dc1');
    expect(notification).toMatchObject({ title: 'Declared', body: 'by JSON' });
    expect(notification!.data.__tidings).toMatchObject({ messageId: 'dc1', url: `${server.origin}/articles/1` });
    await until(() => eventOf('delivered', 'dc1') && eventOf('shown', 'dc1'), 'delivered and shown');
  });

  it('app_badge reaches navigator.setAppBadge, and 0 clearAppBadge', async () => {
    await push.push(declarative({ v: 1, id: 'dc2', appBadge: 7, notification: { title: 'Badge 7', tag: 'dc2' } }));
    await until(async () => (await badges()).length >= 1, 'the badge');
    await push.push(declarative({ v: 1, id: 'dc3', appBadge: 0, notification: { title: 'Badge cleared', tag: 'dc3' } }));
    await until(async () => (await badges()).length >= 2, 'the cleared badge');
    const reports = await badges();
    expect(reports.map((b) => b.count)).toEqual([7, 0]);
    // The browser's own method ran: the probe calls it before reporting.
    expect(reports.every((b) => (b as { native?: boolean }).native)).toBe(true);
  });

  it('shows a mutable message once when it arrives twice (a sender retried its batch)', async () => {
    const payload = declarative({ v: 1, id: 'dc4', data: { n: 1 }, notification: { title: 'Mutable once', tag: 'dc4' } });
    expect(JSON.parse(payload)).toMatchObject({ mutable: true, notification: { mutable: true } });
    const before = (await shown()).length;
    await push.push(payload);
    await until(async () => (await shown()).length > before, 'the first showing');
    // The second copy as a batch run again sends it: marked as a possible repeat.
    await push.push(markRetry(payload));
    await until(() => eventOf('failed', 'dc4', 'replayed'), 'the replay to be refused');
    const titles = (await shown()).slice(before).map((s) => s.title);
    expect(titles).toEqual(['Mutable once']);
  });
});
