import type { EventType, TidingsEvent } from '../shared/protocol.js';
import { nextTask } from './nextTask.js';
import { getValue, type OutboxEntry, type TidingsDatabase } from './db.js';
import { hkdf, utf8 } from '../shared/aes128gcm.js';
import { toBase64Url } from '../shared/base64url.js';
import type { ResolvedOptions } from './resolveOptions.js';

declare const self: ServiceWorkerGlobalScope;

/** Background Sync tag: the browser fires `sync` with it once it is back online. */
export const SYNC_TAG = 'tidings';

export interface Outbox {
  /** Queues an analytics event; resolves once it is stored. Never rejects. */
  record(type: EventType, messageId?: string, extra?: { action?: string; reason?: string }): Promise<void>;
  /** Sends what is queued in batches; events are deleted only after a 2xx. Rejects when sending failed. */
  send(): Promise<void>;
}

/** How long a batch smaller than `batchSize` waits for the next push of a burst, ms. */
const LINGER = 20;

/**
 * The analytics outbox: events wait in IndexedDB (in memory where IndexedDB is refused)
 * until `POST {backend}/events` answers 2xx. It keeps at most `maxQueue` events; the
 * oldest go first and the next event recorded carries how many were dropped.
 *
 * A batch smaller than `batchSize` is sent only when `idle()` (no other event's work
 * runs, which would send it with its own when it ends) and stays so for LINGER ms (a
 * burst's next push would): so a burst sends full batches and one partial last batch.
 */
export function createOutbox(
  options: ResolvedOptions,
  db: () => Promise<TidingsDatabase | undefined>,
  idle: () => boolean,
  /** Resolves when writing will not hold up a notification (Notifier.settled). */
  settled: () => Promise<void>,
): Outbox {
  const { analytics, backend, timeout } = options;
  let queued: TidingsEvent[] = [];
  let writing: Promise<void> | undefined;
  let sending: Promise<void> | undefined;
  let again = false;
  // Used only when IndexedDB is refused (private modes): events then live as long as the worker.
  let memory: OutboxEntry[] = [];

  const store = async (events: TidingsEvent[]) => {
    const { maxQueue } = analytics as { maxQueue: number };
    // Room is made before the new events go in, so the first of them can carry the count
    // of what was dropped (plus what the dropped events carried): nothing goes unreported.
    let dropped = 0;
    const drop = ({ event }: OutboxEntry) => (dropped += 1 + (event.dropped ?? 0));
    try {
      const tx = (await db())!.transaction('outbox', 'readwrite');
      const extra = (await tx.store.count()) + events.length - maxQueue;
      for (const entry of extra > 0 ? await tx.store.getAll(null, extra) : []) {
        drop(entry);
        void tx.store.delete(entry.seq!);
      }
      events[0]!.dropped = dropped || undefined;
      for (const event of events) void tx.store.add({ event });
      await tx.done;
    } catch {
      dropped = 0;
      memory.splice(0, memory.length + events.length - maxQueue).forEach(drop);
      events[0]!.dropped = dropped || undefined;
      memory.push(...events.map((event) => ({ event })));
    }
  };

  const sendAll = async () => {
    const { batchSize } = analytics as { batchSize: number };
    for (let waited = false; ; ) {
      await writing;
      const database = await db();
      const entries = database ? await database.getAll('outbox', null, batchSize) : memory.slice(0, batchSize);
      if (!entries.length) return;
      if (entries.length < batchSize) {
        if (!idle()) return;
        if (!waited) {
          waited = true;
          await nextTask(LINGER);
          continue;
        }
      }
      // Signed when this browser's subscription is the one the backend registered (the sync
      // state's endpoint): the body names its backend id, and `tidings-signature: v1=<base64url
      // HMAC-SHA256 of the body>` is keyed by HKDF-SHA256(the subscription's auth secret, empty
      // salt, "tidings events v1", 32 bytes). Only this browser and the backend know that
      // secret, so only its events count. Otherwise (no subscription, not registered yet, no
      // IndexedDB) unsigned: the backend keeps them as unverified. Inline, not a function of
      // its own: that was 14 bytes more in the worker.
      const events = entries.map((entry) => entry.event);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      let body = JSON.stringify({ events });
      try {
        const sync = (await getValue(database!, 'sync'))!;
        const subscription = (await self.registration.pushManager.getSubscription())!;
        if (subscription.endpoint == sync.endpoint) {
          body = JSON.stringify({ subscription: sync.backendId, events });
          const key = await hkdf(new Uint8Array(), subscription.getKey('auth')!, utf8('tidings events v1'), 32);
          const hmac = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
          headers['tidings-signature'] = 'v1=' + toBase64Url(await crypto.subtle.sign('HMAC', hmac, utf8(body)));
        }
      } catch {
        // A subscription, a sync state or IndexedDB missing: unsigned.
      }
      const status = (
        await fetch(`${backend}/events`, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeout) }).catch(() => undefined)
      )?.status;
      // A 4xx but 408 and 429 is final (a refused signature, a body the backend will never
      // take): the batch is dropped, or it would block the outbox for ever. The rest (5xx,
      // 408, 429, no answer) may pass later: kept.
      if (!(status! < 500 && status != 408 && status != 429)) {
        // Retried by Background Sync where the browser has it, else at the next event.
        await (self.registration as { sync?: { register(tag: string): Promise<void> } }).sync
          ?.register(SYNC_TAG)
          .catch(() => undefined);
        // Only flush's allSettled sees this rejection, so it carries no message.
        throw 0;
      }
      if (database) {
        const tx = database.transaction('outbox', 'readwrite');
        for (const entry of entries) void tx.store.delete(entry.seq!);
        await tx.done;
      } else memory = memory.filter((entry) => !entries.includes(entry));
    }
  };

  return {
    record(type, messageId, extra) {
      if (!analytics) return Promise.resolve();
      queued.push({ id: crypto.randomUUID(), type, at: Date.now(), messageId, ...extra });
      // One transaction for everything recorded meanwhile: a burst of pushes stays cheap.
      return (writing ??= (async () => {
        await settled();
        try {
          while (queued.length) await store(queued.splice(0));
        } finally {
          writing = undefined;
        }
      })());
    },
    send() {
      if (!analytics) return Promise.resolve();
      // A caller that arrives while a send runs may have events the running loop has
      // already passed: it asks for one more round instead of starting a second loop.
      again = !!sending;
      return (sending ??= (async () => {
        try {
          do {
            again = false;
            await sendAll();
          } while (again);
        } finally {
          sending = undefined;
        }
      })());
    },
  };
}
