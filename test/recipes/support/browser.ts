import type { Browser, Page } from 'playwright-core';
import { launchChromium, newContext } from '../../e2e/support/chromium.js';
import { attachPushDriver, pushManagerStub, type PushDriver } from '../../../src/testing/index.js';
import type { SubscriptionJSON } from '../../../src/shared/protocol.js';
import { SESSION } from './site.js';

export interface Visitor {
  browser: Browser;
  page: Page;
  push: PushDriver;
  close(): Promise<void>;
}

/**
 * Real Chromium on `origin`, a logged-in visitor (the session cookie) with notifications
 * granted. Only `pushManager.subscribe()` is stubbed, to hand out `subscriber` (Chromium
 * cannot reach a push service here: DESIGN.md, Testing); pushes arrive as real push
 * events through the DevTools protocol.
 */
export async function openVisitor(origin: string, subscriber: SubscriptionJSON): Promise<Visitor> {
  const browser = await launchChromium();
  try {
    const context = await newContext(browser, origin);
    await context.addCookies([{ ...SESSION, url: origin, httpOnly: true, sameSite: 'Lax' }]);
    await context.addInitScript(pushManagerStub(subscriber));
    const page = await context.newPage();
    const push = await attachPushDriver(page);
    return { browser, page, push, close: async () => (await push.detach(), await browser.close()) };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/** The notifications the page's service worker shows: read once, after they were shown (DESIGN.md). */
export function shownTitles(page: Page): Promise<string[]> {
  return page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => n.title));
}
