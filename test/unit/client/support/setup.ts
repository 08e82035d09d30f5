import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach } from 'vitest';
import { toBase64Url } from '../../../../src/shared/base64url.js';
import { installFakeBrowser, type FakeBrowser } from './fakeBrowser.js';
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

/** Fresh IndexedDB, fake browser APIs and a real contract backend for each test. */
export function useEnv(): Env {
  const env = {} as Env;
  beforeEach(async () => {
    globalThis.indexedDB = new IDBFactory();
    env.browser = installFakeBrowser();
    env.backend = await startTestBackend();
  });
  afterEach(async () => {
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
