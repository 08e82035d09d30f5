import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import type { Browser as Firefox, Page as FirefoxPage } from 'puppeteer-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { launchFirefox } from './support/firefox.js';
import { startDashboardSite, type DashboardSite } from './support/dashboardServer.js';
import { importBuilt } from '../support/importBuilt.js';
import { freshName, postgresUrl, redisUrl, serviceAnswers } from '../support/services.js';

// The dashboard's "Done when", on the real thing (all from dist/): a viewer signs in
// through the site's own login (authorize), composes a push to a topic in real Chromium,
// sees the audience's size, sends, and watches a real Firefox subscriber's delivered,
// shown and clicked arrive in the message's funnel through the local push service. Then a
// send through the queue (Redis, a sender process of the built package, PostgreSQL),
// throttled so that it has a middle, cancelled from its page, whose counts add up.

/** Signs in through the site's form after the dashboard sent the browser there. */
async function signIn(page: Page, url: string, session: string) {
  await page.goto(url);
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.getByLabel('User').fill(session);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((at) => at.pathname.startsWith('/admin'));
}

/** The funnel table's count for `step` (targeted, sent, delivered, shown, clicked), read off the page. */
const funnelCount = async (page: Page, step: string): Promise<number> =>
  Number(((await page.locator('table.numbers', { hasText: 'Funnel' }).locator('tr', { has: page.locator(`th:text-is("${step}")`) }).locator('td').first().textContent()) ?? '').replace(/\D/g, ''));

/** The outcome counts the message page says (`data-count`), as numbers. */
const outcomes = (page: Page) =>
  page.locator('.outcomes [data-count]').evaluateAll((spans) => Object.fromEntries(spans.map((span) => [span.getAttribute('data-count'), Number(span.textContent!.replace(/\D/g, ''))])));

describe('composing, sending and watching the funnel fill, from real Chromium to a real Firefox', () => {
  let site: DashboardSite;
  let chromium: Browser;
  let firefox: Firefox;
  let subscriber: FirefoxPage;

  beforeAll(async () => {
    // Browsers choose their topic; two more news readers are subscribed at the local push
    // service with no browser behind them (offline): accepted, never delivered.
    site = await startDashboardSite({ pushOptions: { clientAttributes: ['topic'] }, subscribers: [{ topic: 'news' }, { topic: 'news' }, { topic: 'sports' }] });
    firefox = await launchFirefox({ ...site.pushService.firefoxPrefs() });
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
    await firefox?.close();
    await site?.close();
  });

  it('signs in through authorize, sends to a topic, and shows delivered, shown and clicked as they happen', async () => {
    subscriber = await firefox.newPage();
    await subscriber.goto(`${site.origin}/insight.html`);
    const state = await subscriber.evaluate(
      (key) =>
        (window as unknown as { Tidings: { createPushClient(o: object): { subscribe(): Promise<unknown> } } }).Tidings.createPushClient({
          vapidPublicKey: key,
          backend: '/api/push',
          serviceWorker: '/insight-sw.js',
          attributes: { topic: 'news' },
        }).subscribe(),
      site.vapid.publicKey,
    );
    expect(state).toMatchObject({ subscribed: true, synced: true });

    const context = await chromium.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, `${site.url}/compose`, 'ann');
    await page.getByRole('heading', { level: 1, name: 'Compose' }).waitFor();
    await page.getByLabel('Title', { exact: true }).fill('Morning briefing');
    await page.getByLabel('Body', { exact: true }).fill('Five stories to start the day');
    // Its url is the page Firefox has open, so the click focuses that tab.
    await page.getByLabel('Opens (URL)').first().fill('/insight.html');
    await page.getByRole('button', { name: 'Add a condition' }).click();
    await page.getByLabel('Attribute').fill('topic');
    await page.getByLabel('Values (comma-separated)').fill('news');
    await expect.poll(() => page.locator('.size').textContent()).toBe('Audience: 3 subscriptions.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.locator('h2').textContent()).toBe('Send to 3 subscriptions?');
    await dialog.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => page.locator('.notice.ok').textContent()).toMatch(/^Sent: 3 accepted, 0 gone, 0 failed/);
    await page.getByRole('link', { name: 'See its funnel' }).click();
    await page.getByRole('heading', { level: 1, name: 'Morning briefing' }).waitFor();
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

    // The page reads the funnel again while browsers report: no reload.
    expect(await funnelCount(page, 'targeted')).toBe(3);
    expect(await funnelCount(page, 'sent')).toBe(3);
    await expect.poll(() => funnelCount(page, 'shown'), { timeout: 30_000 }).toBe(1);
    expect(await funnelCount(page, 'delivered')).toBe(1);
    expect(await funnelCount(page, 'clicked')).toBe(0);

    // A real click on the real notification, in the subscriber's worker (insight-sw.js's probe).
    await subscriber.evaluate(async () => (await navigator.serviceWorker.ready).active!.postMessage({ probe: 'click' }));
    await expect.poll(() => funnelCount(page, 'clicked'), { timeout: 30_000 }).toBe(1);
    const byBrowser = page.locator('table', { hasText: 'By browser' }).locator('tbody tr', { hasText: 'firefox' });
    // Delivered, shown, clicked, closed: Firefox's close after the click is no dismissal.
    expect((await byBrowser.locator('td').allTextContents()).map(Number).slice(0, 4)).toEqual([1, 1, 1, 0]);
    expect(await page.locator('.facts').textContent()).toContain('Sent byAnn');
    expect(await site.push.stats.message(id)).toMatchObject({ by: 'Ann', audience: expect.anything(), targeted: 3, sent: 3, delivered: 1, shown: 1, clicked: 1 });
    await context.close();
  });
});

const SUBSCRIBERS = 2000;
const PER_SECOND = 100;
const up = (await serviceAnswers('PostgreSQL', postgresUrl)) && (await serviceAnswers('Redis', redisUrl));

describe.runIf(up)(`cancelling a queued send mid-way from its page (${SUBSCRIBERS} subscribers, ${PER_SECOND} a second, a sender process)`, () => {
  const schema = freshName('tidings_dashcancel');
  const name = freshName('tidings-dashcancel');
  let site: DashboardSite;
  let chromium: Browser;
  let sender: ChildProcess;
  const endpoints: string[] = [];

  beforeAll(async () => {
    const { postgresStore } = await importBuilt<typeof import('../../src/postgres/index.js')>('postgres.js');
    const { createSendQueue } = await importBuilt<typeof import('../../src/queue/index.js')>('queue.js');
    site = await startDashboardSite({
      store: () => postgresStore({ connectionString: postgresUrl, schema }),
      queue: ({ store, vapid }) => createSendQueue({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true }),
    });
    for (let i = 0; i < SUBSCRIBERS; i += 200) {
      const chunk = await Promise.all(Array.from({ length: 200 }, () => site.pushService.subscribe(site.vapid.publicKey)));
      await Promise.all(chunk.map((subscription) => site.store.saveSubscription({ subscription })));
      endpoints.push(...chunk.map((subscription) => subscription.endpoint));
    }
    sender = await startSender(site.vapid, schema, name);
    chromium = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await chromium?.close();
    if (sender && sender.exitCode === null) {
      const exited = new Promise((resolve) => sender.once('exit', resolve));
      sender.kill('SIGTERM');
      await exited;
    }
    await (site as DashboardSite & { queue?: { close(): Promise<void> } })?.queue?.close();
    await site?.close();
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    const bull = new Queue(name, { connection: { url: redisUrl } });
    await bull.obliterate({ force: true });
    const redis = (await bull.client) as unknown as { keys(p: string): Promise<string[]>; del(k: string): Promise<number> };
    for (const key of await redis.keys(`tidings:${name}:*`)) await redis.del(key);
    await bull.close();
  });

  it('shows its live progress, stops it when asked, and its page shows counts that add up to what the push service got', async () => {
    const context = await chromium.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, `${site.url}/compose`, 'ann');
    await page.getByLabel('Title', { exact: true }).fill('Stop me half-way');
    await page.getByLabel('At most per second').fill(String(PER_SECOND));
    await expect.poll(() => page.locator('.size').textContent()).toBe('Audience: 2,000 subscriptions.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.locator('h2').textContent()).toBe('Send to 2,000 subscriptions?');
    await dialog.getByRole('button', { name: 'Send', exact: true }).click();
    // A queued send opens its page: the send log's row, with the queue's live progress.
    await page.getByRole('heading', { level: 1, name: 'Stop me half-way' }).waitFor();
    const progress = page.locator('.progress p').first();
    const sentSoFar = async () => Number(/(\d[\d,]*) sent/.exec((await progress.textContent()) ?? '')?.[1]?.replace(/,/g, '') ?? 0);
    await expect.poll(sentSoFar, { timeout: 30_000 }).toBeGreaterThanOrEqual(PER_SECOND);
    expect(await progress.textContent()).toMatch(/^running [\d,]+ of 2,000 done/);
    expect(await page.locator('progress').getAttribute('max')).toBe('2000');

    await page.getByRole('button', { name: 'Cancel this send' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel the send' }).click();
    await expect.poll(() => page.locator('.facts .state').textContent(), { timeout: 10_000 }).toBe('cancelled');
    expect(await page.getByRole('button', { name: 'Cancel this send' }).count()).toBe(0);

    // Once the batch in flight has ended the row stops changing; the page then says what
    // went, and it adds up: whom it dealt with = sent + gone + failed + capped.
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    let row = (await site.push.stats.message(id))!;
    for (let last = '', same = 0; same < 5; ) {
      row = (await site.push.stats.message(id))!;
      same = JSON.stringify(row) === last ? same + 1 : 0;
      last = JSON.stringify(row);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Stop me half-way' }).waitFor();
    const counts = await outcomes(page);
    const received = endpoints.reduce((n, endpoint) => n + site.pushService.messages(endpoint).length, 0);
    expect(counts).toEqual({ targeted: row.targeted, sent: row.sent, gone: row.gone, failed: row.failed, capped: row.capped });
    expect(counts.targeted).toBe(counts.sent! + counts.gone! + counts.failed! + counts.capped!);
    expect(counts.sent).toBe(received);
    expect(counts.sent).toBeGreaterThanOrEqual(PER_SECOND);
    expect(counts.sent).toBeLessThan(SUBSCRIBERS);
    expect(await funnelCount(page, 'sent')).toBe(received);
    expect(row).toMatchObject({ state: 'cancelled', via: 'queue', by: 'Ann', options: { perSecond: PER_SECOND } });
    console.log(`dashboard cancel: ${received} of ${SUBSCRIBERS} sent before the cancel took`);
    await context.close();
  }, 120_000);
});

/** A sender process of the built package (test/e2e/support/controlProcess.mjs), ready when it says so. */
function startSender(vapid: DashboardSite['vapid'], schema: string, name: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'support/controlProcess.mjs'), 'sender', postgresUrl, schema, redisUrl, name], {
      env: { ...process.env, TIDINGS_TEST_VAPID: JSON.stringify(vapid) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      if (out.includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`sender exited ${code}: ${out}`)));
  });
}
