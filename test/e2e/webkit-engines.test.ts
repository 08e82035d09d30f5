import { createECDH } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, newContext } from './support/chromium.js';
import { launchFirefox } from './support/firefox.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { WebKitDriver } from './support/webkitDriver.js';

// Where WebKit's permission rules part from Chromium's and Firefox's, side by side: the
// same probe, outside any user gesture, on the same page (dist/tidings.iife.js loaded),
// in the three real engines. Each answer here shaped code in src/client.

const KEY = createECDH('prime256v1').generateKeys().toString('base64url');

/** [permission, Permissions API state, requestPermission() answer, permission after, tidings' requestPermission() answer]. */
async function probe(key: string): Promise<string[]> {
  const Tidings = (window as unknown as { Tidings: { createPushClient(o: object): { requestPermission(): Promise<string> } } }).Tidings;
  const client = Tidings.createPushClient({ vapidPublicKey: key, backend: '/api/push', serviceWorker: '/client-sw.js' });
  const before = Notification.permission;
  const state = (await navigator.permissions.query({ name: 'notifications' })).state;
  const answer = await Notification.requestPermission();
  return [before, state, answer, Notification.permission, await client.requestPermission().catch((e: { code: string }) => e.code)];
}

describe('notification permission outside a gesture, in the three engines', () => {
  let server: StaticServer;
  let page: string;
  beforeAll(async () => {
    server = await startStaticServer();
    page = `${server.origin}/client.html`;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('WebKit refuses any request outside a gesture, even when granted, and keeps no refusal; its Permissions API stays at prompt', async () => {
    const driver = await WebKitDriver.start();
    try {
      for (const [options, expected] of [
        [{ grant: server.origin }, ['granted', 'prompt', 'denied', 'granted', 'granted']],
        // The browser would answer Allow to a prompt: WebKit never shows one here.
        [{ allow: server.origin }, ['default', 'prompt', 'denied', 'default', 'denied']],
      ] as const) {
        const browser = await driver.newSession(options);
        try {
          await browser.navigate(page);
          expect(await browser.run(probe, KEY)).toEqual(expected);
        } finally {
          await browser.close();
        }
      }
    } finally {
      await driver.stop();
    }
  });

  it('Chromium answers a grant as granted, and keeps a refusal', async () => {
    const browser = await launchChromium();
    try {
      const granted = await newContext(browser, server.origin);
      const tab = await granted.newPage();
      await tab.goto(page);
      expect(await tab.evaluate(probe, KEY)).toEqual(['granted', 'granted', 'granted', 'granted', 'granted']);
      // Headless Chromium refuses a prompt, and the refusal sticks.
      const plain = await (await browser.newContext()).newPage();
      await plain.goto(page);
      expect(await plain.evaluate(probe, KEY)).toEqual(['default', 'prompt', 'denied', 'denied', 'denied']);
    } finally {
      await browser.close();
    }
  });

  it('Firefox answers a grant as granted', async () => {
    // The tests' Firefox grants notifications by pref (support/firefox.ts).
    const browser = await launchFirefox({});
    try {
      const tab = await browser.newPage();
      await tab.goto(page);
      expect(await tab.evaluate(probe, KEY)).toEqual(['granted', 'granted', 'granted', 'granted', 'granted']);
    } finally {
      await browser.close();
    }
  });
});
