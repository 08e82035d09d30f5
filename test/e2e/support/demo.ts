import type { Envelope, SubscriptionJSON, TidingsEvent } from '../../../src/shared/protocol.js';
import type { SendOptions, SendResult } from '../../../src/server/createPushServer.js';
import type { StoredSubscription } from '../../../src/server/stores/SubscriptionStore.js';
import type { PushStats } from '../../../src/server/stats/statsTypes.js';
// @ts-expect-error: plain ESM without types; the demo is what `npm run demo` runs.
import { startDemo as start } from '../../../demo/startDemo.mjs';

/** What the end-to-end tests use of a running demo (demo/startDemo.mjs). */
export interface Demo {
  url: string;
  origin: string;
  vapid: { publicKey: string };
  push: { send(envelope: Envelope, options?: SendOptions): Promise<SendResult>; stats: PushStats };
  store: {
    findSubscriptions(query?: object): Promise<StoredSubscription[]>;
    listEvents(query?: { messageId?: string; type?: string }): Promise<TidingsEvent[]>;
  };
  pushService: {
    firefoxPrefs(): Record<string, string | number | boolean>;
    subscribe(applicationServerKey?: string): Promise<SubscriptionJSON>;
    received(endpoint: string): Promise<string[]>;
    expire(endpoint: string): void;
    resetUserAgents(): number;
  };
  close(): Promise<void>;
}

/** Starts the demo on free ports with its data in `dataDir`. */
export function startDemo(dataDir: string): Promise<Demo> {
  return start({ port: 0, pushPort: 0, dataDir }) as Promise<Demo>;
}

/** Polls `check` until it returns a value that is not undefined, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The sorted event types the demo backend stored for one message. */
export async function eventTypes(demo: Demo, messageId: string): Promise<string[]> {
  return (await demo.store.listEvents({ messageId })).map((e) => e.type).sort();
}

/** Waits until the demo backend has stored a `type` event for `messageId`. */
export async function untilEvent(demo: Demo, messageId: string, type: string): Promise<void> {
  await eventually(async () => ((await eventTypes(demo, messageId)).includes(type) ? true : undefined), `${type} of ${messageId}`);
}
