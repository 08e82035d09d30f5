import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach } from 'vitest';
import { toBase64Url } from '../../../../src/shared/base64url.js';
import { isTidingsMessage, type PageRequest } from '../../../../src/shared/protocol.js';
import { handlePageRequest } from '../../../../src/worker/handlePageRequest.js';
import { FakeWorker, installFakeBrowser, type FakeBrowser } from './fakeBrowser.js';
import { startTestBackend, type TestBackend } from './testBackend.js';

/** A VAPID-shaped public key: 65 bytes starting 0x04 (the client checks the shape only). */
export function vapidKey(fill: number): { bytes: Uint8Array; text: string } {
  const bytes = new Uint8Array(65).fill(fill);
  bytes[0] = 4;
  return { bytes, text: toBase64Url(bytes) };
}

export const KEY = vapidKey(1);
export const OTHER_KEY = vapidKey(2);

export interface Env {
  browser: FakeBrowser;
  backend: TestBackend;
}

/**
 * Fresh IndexedDB, fake browser APIs and a real contract backend for each test. The
 * page's service worker is the real tidings request handler, run in this realm (same
 * IndexedDB, locks and fetch), so the page is tested against what the worker answers.
 */
export function useEnv(): Env {
  const env = {} as Env;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis;
  beforeEach(async () => {
    // A client lives as long as its page, and its retry timers with it. Here the "page" is
    // shared by every test, so timers a test leaves behind are cleared when it ends: a retry
    // scheduled by one test's client must not run against the next test's browser and
    // IndexedDB (it did, and wrote its old backend's queued registration into them).
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
      const id = realSetTimeout(() => {
        timers.delete(id);
        fn(...(args as []));
      }, ms);
      timers.add(id);
      return id;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((id: ReturnType<typeof setTimeout>) => {
      timers.delete(id);
      realClearTimeout(id);
    }) as typeof clearTimeout;
    globalThis.indexedDB = new IDBFactory();
    env.browser = installFakeBrowser();
    FakeWorker.onmessage = (data, ports) => {
      if (isTidingsMessage(data)) handlePageRequest({ ports, waitUntil: () => {} }, data as PageRequest);
    };
    env.backend = await startTestBackend();
  });
  afterEach(async () => {
    timers.forEach((id) => realClearTimeout(id));
    timers.clear();
    Object.assign(globalThis, { setTimeout: realSetTimeout, clearTimeout: realClearTimeout });
    env.browser.uninstall();
    await env.backend.close();
  });
  return env;
}

/** Waits until `condition` holds (the client's load-time check runs in the background). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets background work (IndexedDB, fetch) settle. */
export const settle = (ms = 50): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
