import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { startDashboardSite, SESSION, type DashboardSite } from './support/dashboardServer.js';
import { seedSampleMonth } from '../support/dashboard/sampleMonth.js';
import { sendRecord } from '../support/insightSuite.js';
import { hostileTexts, hostileUrls, PWNED } from '../support/dashboard/hostile.js';
import { HOSTILE_CLIENT_ATTRIBUTES, HOSTILE_USER, hostileKeys, seedForeignShapes, seedHostile, startHostilePushHost } from '../support/dashboard/hostileData.js';
import { startDemo, type Demo } from './support/demo.js';
import { launchFirefox } from './support/firefox.js';
import type { Browser as Firefox } from 'puppeteer-core';

// The dashboard from dist/ in real Chromium, mounted at /admin of a site on loopback with a
// real push server and the local push service. Its figures are the real stats of that push
// server, over a store seeded with a sample month (test/support/dashboard/sampleMonth.ts);
// what strangers wrote comes through the real paths (test/support/dashboard/hostileData.ts).

const PAGES = [
  ['/', 'Overview'],
  ['/messages', 'Messages'],
  ['/messages/msg-1', 'New reply in "Weekend plans"'],
  ['/audience?by=team&key=user&value=42', 'Audience'],
  ['/compose', 'Compose'],
] as const;

const shots = join(tmpdir(), 'tidings-dashboard-shots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Records what the page would report: CSP violations, errors, dialogs. */
async function watch(context: BrowserContext) {
  await context.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (event) => w.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`));
  });
}

async function signedIn(browser: Browser, site: DashboardSite, options: { colorScheme?: 'light' | 'dark'; width?: number; bypassCSP?: boolean } = {}) {
  const context = await browser.newContext({ colorScheme: options.colorScheme ?? 'light', viewport: { width: options.width ?? 1200, height: 900 }, bypassCSP: options.bypassCSP ?? false, locale: 'en-US' });
  await context.addCookies([{ name: SESSION, value: 'ann', url: site.origin }]);
  await watch(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console ${message.text()}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog ${dialog.message()}`);
    void dialog.dismiss();
  });
  return { context, page, problems };
}

/** Opens a page and waits until its data is on it (the heading names it, nothing loads). */
async function open(page: Page, site: DashboardSite, path: string, heading?: string) {
  const response = await page.goto(`${site.url}${path}`);
  expect(response?.status()).toBe(200);
  if (heading) await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
  await expect.poll(() => page.locator('text=Loading…').count()).toBe(0);
}

describe('the dashboard in real Chromium', () => {
  let browser: Browser;
  let site: DashboardSite;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    site = await startDashboardSite({ seed: (store) => seedSampleMonth(store), subscribers: [{ user: '42', team: 'red' }, { user: '7', team: 'blue' }] });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it("lets nobody in without authorize: a page sends them to the login (authorize's own answer), data is 401, nothing of the dashboard runs", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`${site.url}/messages`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(response?.status()).toBe(200);
    expect(await page.locator('h1').textContent()).toBe('Sign in');
    expect((await page.request.get(`${site.url}/api/messages`)).status()).toBe(401);
    // Signing in through the site's form brings them back to the page they asked for.
    await page.getByLabel('User').fill('ann');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/messages');
    expect(await page.locator('.viewer').textContent()).toBe('Signed in as Ann');
    await context.close();
  });

  it('renders every page, signed in through authorize, with no error and no CSP report', async () => {
    const { page, problems, context } = await signedIn(browser, site);
    for (const [path, heading] of PAGES) {
      await open(page, site, path, heading);
      await page.screenshot({ path: join(shots, `light${path.replace(/\W+/g, '-')}.png`), fullPage: true });
    }
    await expect.poll(() => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
    expect(problems).toEqual([]);
    // The figures in the viewer's locale.
    await open(page, site, '/', 'Overview');
    await expect.poll(() => page.locator('.big').first().textContent()).toMatch(/^\d{1,3}(,\d{3})*$/);
    await context.close();
  });

  it('works at 360 px wide in dark mode: nothing wider than the screen', async () => {
    const { page, problems, context } = await signedIn(browser, site, { colorScheme: 'dark', width: 360 });
    for (const [path, heading] of PAGES) {
      await open(page, site, path, heading);
      expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(true);
      expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(13, 17, 23)');
      // The page itself never scrolls sideways; wide tables scroll inside their own box.
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(360);
      await page.screenshot({ path: join(shots, `dark-360${path.replace(/\W+/g, '-')}.png`), fullPage: true });
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it('can be used with the keyboard alone: skip link, navigation, a message, back', async () => {
    const { page, context } = await signedIn(browser, site);
    await open(page, site, '/', 'Overview');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the page');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Messages');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/messages');
    // Focus went to the new page, as a page load would put it.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('main');
    // Tab to the first message and open it.
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Your order has shipped'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Your order has shipped' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/messages/msg-0');
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
    // Compose: every control has a name a screen reader reads.
    await open(page, site, '/compose', 'Compose');
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea, button')].filter((el) => !(el as HTMLElement).closest('label') && !el.textContent?.trim() && !el.getAttribute('aria-label')).length,
    );
    expect(unnamed).toBe(0);
    await context.close();
  });

  it('passes axe-core on every page, light and dark, with no serious or critical violation', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      // axe is injected into the page, which the dashboard's own CSP forbids: this context bypasses it.
      const { page, context } = await signedIn(browser, site, { colorScheme, bypassCSP: true });
      for (const [path, heading] of PAGES) {
        await open(page, site, path, heading);
        await page.evaluate(axeSource);
        const violations = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
          const result = await axe.run(document, { resultTypes: ['violations'] });
          return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        });
        expect(violations, `${colorScheme} ${path}`).toEqual([]);
      }
      await context.close();
    }
  });

  it('compose: counts the audience, previews per browser, asks before sending to more than one, and sends', async () => {
    const { page, problems, context } = await signedIn(browser, site);
    await open(page, site, '/compose', 'Compose');
    await page.getByLabel('Title').fill('Hello team');
    await page.getByLabel('Body').fill('Standup moved to 10:00');
    await page.getByRole('button', { name: 'Add an action' }).click();
    await page.getByLabel('Name').fill('open');
    await page.getByLabel('Button title').fill('Open the agenda');
    const safari = page.locator('figure.preview', { hasText: 'Safari' });
    await expect.poll(() => safari.textContent()).toContain('Safari shows no action buttons and no image');
    expect(await safari.locator('.toast-action').count()).toBe(0);
    expect(await page.locator('figure.preview', { hasText: 'Chrome' }).locator('.toast-action').textContent()).toBe('Open the agenda');
    // The message in Brazilian Portuguese too, typed in lower case: previewed in it, sent under its canonical tag.
    await page.getByRole('button', { name: 'Add a language' }).click();
    await page.getByLabel('Language tag').fill('pt-br');
    await page.getByLabel('Title in that language').fill('Olá, equipe');
    await page.getByLabel('Preview in').selectOption('pt-BR');
    await expect.poll(() => page.locator('.toast-title').first().textContent()).toBe('Olá, equipe');
    expect(await page.locator('.toast-body').first().textContent()).toBe('Standup moved to 10:00');
    expect(await page.locator('.toast').first().getAttribute('lang')).toBe('pt-BR');
    // count() gives the audience's size before sending, and the confirmation names it.
    await expect.poll(() => page.locator('.size').textContent()).toContain('2 subscriptions');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Send to 2 subscriptions?');
    await dialog.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => page.locator('.notice.ok').textContent()).toMatch(/Sent: 2 accepted, 0 gone, 0 failed/);
    // The first POST was answered 409 "confirm this size" (Chromium logs it); nothing else went wrong.
    expect(problems).toEqual(['console Failed to load resource: the server responded with a status of 409 (Conflict)']);
    // The send is in the log, as push.stats has it: by the viewer, 2 targeted, 2 accepted.
    await open(page, site, '/messages', 'Messages');
    const row = page.locator('table.messages tbody tr').first();
    expect(await row.textContent()).toContain('Hello team');
    expect(await row.textContent()).toContain('by Ann');
    const [newest] = (await site.push.stats!.messages({ limit: 1 })).items;
    expect(newest).toMatchObject({ title: 'Hello team', by: 'Ann', targeted: 2, sent: 2, state: 'done', options: { locales: { 'pt-BR': { notification: { lang: 'pt-BR', title: 'Olá, equipe' } } } } });
    await context.close();
  });

  it('calls a send whose process stopped mid-way overdue, says why, and lets the viewer cancel it', async () => {
    // What a plain send() leaves when its process is killed: a running row its process
    // was to write again ten minutes ago (test/unit/server/sendOverdue.test.ts kills one).
    const started = Date.now() - 20 * 60_000;
    await site.store.createSend(sendRecord('stopped-1', { title: 'Stopped mid-way', state: 'running', createdAt: started, startedAt: started, nextWriteBy: started + 10 * 60_000 }));
    const { page, problems, context } = await signedIn(browser, site);
    await open(page, site, '/messages', 'Messages');
    const row = page.locator('table.messages tbody tr', { hasText: 'Stopped mid-way' });
    expect(await row.textContent()).toMatch(/running\s*overdue/);
    await open(page, site, '/messages/stopped-1', 'Stopped mid-way');
    const alert = page.getByRole('alert').filter({ hasText: 'Overdue since' });
    expect(await alert.textContent()).toMatch(/the process sending it was to write its progress by then and has not/);
    await page.getByRole('button', { name: 'Cancel this send' }).click();
    await page.getByRole('button', { name: 'Cancel the send' }).click();
    await expect.poll(async () => (await site.push.status('stopped-1'))?.state).toBe('cancelled');
    await expect.poll(() => page.getByText('Overdue since').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('the dashboard shows what strangers wrote as text, on every page', () => {
  let browser: Browser;
  let site: DashboardSite;
  let host: Awaited<ReturnType<typeof startHostilePushHost>>;
  let ids: string[];
  let foreign: string;

  beforeAll(async () => {
    // Browsers set `topic` and `note` themselves; the site names everyone mallory; the viewer's name is a payload.
    site = await startDashboardSite({
      pushOptions: { clientAttributes: HOSTILE_CLIENT_ATTRIBUTES, identify: () => ({ user: HOSTILE_USER }), retries: 0 },
      viewers: { ann: { name: hostileTexts[1] } },
    });
    host = await startHostilePushHost();
    const json = { 'content-type': 'application/json' };
    ids = await seedHostile({
      register: (body) => fetch(`${site.origin}/api/push/subscriptions`, { method: 'POST', headers: { ...json, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0' }, body: JSON.stringify(body) }),
      dashboard: (path, body) => fetch(`${site.url}/api${path}`, { method: 'POST', headers: { ...json, cookie: `${SESSION}=ann` }, body: JSON.stringify(body) }),
      setAttributes: (to, attributes) => site.push.setAttributes(to as Parameters<typeof site.push.setAttributes>[0], attributes),
      subscribe: () => site.pushService.subscribe(site.vapid.publicKey),
      host,
    });
    foreign = await seedForeignShapes(site.store);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await host?.close();
  });

  it('has real hostile data to show: sends by the hostile viewer, each failing at the hostile push service with its text', async () => {
    const [first] = ids;
    const stats = (await site.push.stats.message(first!))!;
    expect(stats).toMatchObject({ title: hostileTexts[0], by: hostileTexts[1], targeted: 6, sent: 4, failed: 2 });
    expect(hostileTexts).toContain(stats.errors[0]!.sample);
    expect(host.answered()).toBe(2 * hostileTexts.length);
  });

  it('runs none of the payloads (script tags, handlers, javascript: URLs, SVG, templates) and the CSP reports nothing', async () => {
    const { page, problems, context } = await signedIn(browser, site);
    const audiences = [
      `/audience?by=topic&key=user&value=${HOSTILE_USER}`,
      `/audience?by=note&key=${encodeURIComponent(hostileKeys[0]!)}&value=${encodeURIComponent(hostileTexts[3])}`,
      `/audience?by=${encodeURIComponent(hostileKeys[2]!)}`,
    ];
    const paths = ['/', '/?range=2d', '/messages', ...ids.map((id) => `/messages/${encodeURIComponent(id)}`), `/messages/${foreign}`, ...audiences, '/compose'];
    for (const path of paths) {
      await open(page, site, path);
      await page.locator('h1').waitFor();
      const report = await page.evaluate(
        ({ pwned }) => ({
          pwned: (window as unknown as Record<string, unknown>)[pwned],
          violations: (window as unknown as { __violations: string[] }).__violations,
          scripts: document.scripts.length,
          frames: document.querySelectorAll('iframe, object, embed').length,
          images: document.querySelectorAll('img').length,
          styles: document.querySelectorAll('style').length,
          handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
          links: [...document.querySelectorAll('a[href]')].map((a) => (a as HTMLAnchorElement).href).filter((href) => !href.startsWith(location.origin)),
        }),
        { pwned: PWNED },
      );
      expect(report, path).toEqual({ pwned: undefined, violations: [], scripts: 1, frames: 0, images: 0, styles: 0, handlers: 0, links: [] });
    }
    // The texts are there, as text: the viewer's name, a title, an attribute value, a push service's answer.
    await open(page, site, '/messages');
    expect(await page.locator('.viewer').textContent()).toContain(hostileTexts[1]);
    expect(await page.getByRole('link', { name: hostileTexts[0], exact: true }).count()).toBe(1);
    await open(page, site, `/messages/${encodeURIComponent(ids[0]!)}`);
    // Its url is javascript:: shown, unlinked.
    expect(await page.locator('code.url').textContent()).toBe(hostileUrls[0]);
    const sample = (await site.push.stats.message(ids[0]!))!.errors[0]!.sample!;
    expect(await page.locator('section[aria-labelledby="errors"] td').last().textContent()).toBe(sample);
    await open(page, site, audiences[0]!);
    expect(await page.locator('table.numbers').filter({ hasText: 'Values of' }).locator('tbody th').first().textContent()).toMatch(/^[<"{$dj]/);
    expect(await page.locator('.attributes .key').allTextContents()).toEqual(expect.arrayContaining(hostileKeys));
    await open(page, site, `/messages/${foreign}`);
    expect(await page.locator('section[aria-labelledby="by"]').textContent()).toContain(hostileTexts[0]);
    // Typed into compose, the preview draws the payload as text; a payload as a language tag is refused.
    await open(page, site, '/compose');
    await page.getByLabel('Title', { exact: true }).fill(hostileTexts[1]);
    await page.getByLabel('Body', { exact: true }).fill(hostileTexts[0]);
    await page.getByLabel('Image (URL)').fill(`javascript:window.${PWNED}=30`);
    await expect.poll(() => page.locator('.toast-title').first().textContent()).toBe(hostileTexts[1]);
    await page.getByRole('button', { name: 'Add a language' }).click();
    await page.getByLabel('Language tag').fill(hostileTexts[4]);
    await page.getByLabel('Title in that language').fill(hostileTexts[2]);
    await expect.poll(() => page.locator('.notice').first().textContent()).toContain('not a language tag');
    await page.getByLabel('Language tag').fill('fr');
    await page.getByLabel('Preview in').selectOption('fr');
    await expect.poll(() => page.locator('.toast-title').first().textContent()).toBe(hostileTexts[2]);
    expect(await page.evaluate((pwned) => (window as unknown as Record<string, unknown>)[pwned], PWNED)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('the demo mounts the dashboard at /admin, for the visitor at this machine', () => {
  let browser: Browser;
  let firefox: Firefox | undefined;
  let demo: Demo & { dashboardUrl?: string };
  let dataDir: string;
  let profileDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tidings-demo-admin-'));
    profileDir = mkdtempSync(join(tmpdir(), 'tidings-demo-admin-firefox-'));
    demo = await startDemo(dataDir);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await firefox?.close();
    await demo?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it('signs the visitor in through its session cookie and shows what this push server offers', async () => {
    expect(demo.dashboardUrl).toBe(`${demo.origin}/admin`);
    // Without the session the data is not given; a page visit gets the session first.
    const bare = await fetch(`${demo.origin}/admin/api/overview`, { redirect: 'manual' });
    expect(bare.status).toBe(303);
    const context = await browser.newContext();
    await watch(context);
    const page = await context.newPage();
    await page.goto(`${demo.origin}/admin/compose`);
    await page.getByRole('heading', { level: 1, name: 'Compose' }).waitFor();
    await expect.poll(() => page.locator('.viewer').textContent()).toMatch(/Signed in as demo visitor [\w-]{6}/);
    // The visitor's own subscriptions are the test audience; the demo's push server keeps a send log.
    expect(await page.getByRole('button', { name: 'Send a test to yourself' }).count()).toBe(1);
    await page.goto(`${demo.origin}/admin/messages`);
    await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
    await expect.poll(() => page.locator('main').textContent()).toContain('Nothing has been sent yet.');
    expect(await page.locator('main .notice').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
    await context.close();
  });

  it("shows the funnel of what the demo sent: a real Firefox subscribed to the demo, the demo page's sends and one from Compose", async () => {
    // A reader: real Firefox on the demo page, subscribed through the local push service.
    firefox = await launchFirefox({ ...demo.pushService.firefoxPrefs() }, profileDir);
    const reader = await firefox.newPage();
    await reader.goto(demo.url);
    await reader.waitForSelector('body[data-ready="true"]');
    expect(await reader.evaluate(() => (window as unknown as { demoClient: { subscribe(): Promise<unknown> } }).demoClient.subscribe())).toMatchObject({ subscribed: true });
    // Two sends from the demo page's own form, each shown before the next.
    for (const [n, title] of ['Hello from tidings', 'Your order has shipped'].entries()) {
      await reader.$eval('#send-form input[name="title"]', (input, text) => ((input as HTMLInputElement).value = text as string), title);
      await reader.click('#send-form button[type="submit"]');
      await reader.waitForFunction((rows) => document.querySelectorAll('#funnel tbody tr td:nth-child(6)').length === rows && document.querySelector('#funnel tbody tr td:nth-child(6)')?.textContent === '1', { timeout: 20_000 }, n + 1);
    }
    // The operator: Chromium on /admin (any visitor at this machine), composing to everyone.
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 1080 } });
    await watch(context);
    const page = await context.newPage();
    await page.goto(`${demo.origin}/admin/compose`);
    await page.getByRole('heading', { level: 1, name: 'Compose' }).waitFor();
    await page.getByLabel('Title', { exact: true }).fill('Weekly digest: five stories');
    await page.getByLabel('Body', { exact: true }).fill('What happened while you were away');
    await expect.poll(() => page.locator('.size').textContent()).toBe('Audience: 1 subscription.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => page.locator('.notice.ok').textContent()).toMatch(/^Sent: 1 accepted/);
    await page.getByRole('link', { name: 'See its funnel' }).click();
    await page.getByRole('heading', { level: 1, name: 'Weekly digest: five stories' }).waitFor();
    // The funnel fills on the page as the reader's worker reports.
    const shown = page.locator('table.numbers', { hasText: 'Funnel' }).locator('tr', { has: page.locator('th:text-is("shown")') }).locator('td').first();
    await expect.poll(() => shown.textContent(), { timeout: 30_000 }).toBe('1');
    expect(await page.locator('table', { hasText: 'By browser' }).locator('tbody tr').first().textContent()).toMatch(/^firefox1100$/);
    // The picture in README.md and docs/dashboard.md: this page as the viewer sees it first.
    await page.screenshot({ path: join(shots, 'demo-message.png') });

    // The send log: all three, each with its funnel, by whoever sent it.
    await page.getByRole('link', { name: 'Messages', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
    const rows = page.locator('table.messages tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.locator('td:first-child a').allTextContents()).toEqual(['Weekly digest: five stories', 'Your order has shipped', 'Hello from tidings']);
    expect(await rows.locator('svg.funnel').first().getAttribute('aria-label')).toBe('targeted 1, sent 1, delivered 1, shown 1, clicked 0');
    for (const { id } of (await demo.push.stats.messages({ limit: 10 })).items) expect(await demo.push.stats.message(id)).toMatchObject({ targeted: 1, sent: 1, delivered: 1, shown: 1 });
    await page.screenshot({ path: join(shots, 'demo-messages.png'), fullPage: true });
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await expect.poll(() => page.locator('.chart canvas').count()).toBe(4);
    const overview = await page.screenshot({ fullPage: true });
    writeFileSync(join(shots, 'demo-overview.png'), overview);
    // `TIDINGS_SCREENSHOT=1` refreshes the picture in README.md and docs/dashboard.md.
    if (process.env.TIDINGS_SCREENSHOT) writeFileSync(resolve(import.meta.dirname, '../../docs/dashboard.png'), await readShot('demo-message.png'));
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
    await context.close();
  });
});

const readShot = async (name: string) => readFileSync(join(shots, name));
