// TEST SUPPORT: a push server (real: createPushServer, memoryStore, the local push service),
// and the fixed stats of hostile text (fixedStats.ts) for the tests of rendering it.
import { createPushServer, generateVapidKeys, memoryStore, type SubscriptionStore } from '../../../src/server/index.js';
import { toSubscriptionQuery } from '../../../src/server/audience/toSubscriptionQuery.js';
import type { DashboardPush } from '../../../src/dashboard/dashboardTypes.js';
import type { SendTarget } from '../../../src/dashboard/statsContract.js';
import type { PushService } from '../../../src/testing/index.js';
import { fixedMessage, fixedStats } from './fixedStats.js';
import { hostile, hostileTexts, hostileUrls } from './hostile.js';

export const vapid = { ...generateVapidKeys(), subject: 'mailto:dashboard@tidings.example' };

/** count() over the store with today's exact-match audiences (what issue 21's count() will answer). */
export function countFromStore(store: SubscriptionStore): (to?: SendTarget) => Promise<number> {
  return async (to) => (await store.findSubscriptions(toSubscriptionQuery(to as Parameters<typeof toSubscriptionQuery>[0]))).length;
}

/** Stats whose every text is hostile: titles, urls, senders, error samples, attribute keys and values. */
export function hostileStats() {
  const messages = hostileTexts.map((text, i) =>
    fixedMessage({
      id: `m${String(i).padStart(2, '0')}`,
      title: text,
      url: hostileUrls[i % hostileUrls.length]!,
      type: hostile(i + 1),
      by: hostile(i + 2),
      envelope: { v: 1, id: `m${i}`, notification: { title: text, body: hostile(i + 3), url: hostileUrls[i % hostileUrls.length]! }, data: { [hostile(i + 4)]: hostile(i + 5) } },
      audience: { attributes: { [hostile(i + 6)]: hostile(i + 7) } },
      options: { topic: hostile(i + 8) },
      targeted: 10,
      sent: 9,
      failed: 1,
      delivered: 8,
      shown: 8,
      clicked: 2,
      clickRate: 0.25,
      errors: [{ cause: hostile(i + 9), host: hostile(i + 10), count: 1, sample: hostile(i + 11) }],
      byService: { [hostile(i)]: { sent: 9, gone: 0, failed: 1, delivered: 8, shown: 8, clicked: 2, closed: 0, workerFailed: 0 } },
      byBrowser: { [hostile(i + 1)]: { delivered: 8, shown: 8, clicked: 2, closed: 0, workerFailed: 0 } },
    }),
  );
  return fixedStats({
    messages,
    subscribers: {
      total: 12,
      byService: { [hostile(0)]: 6, mozilla: 6 },
      byBrowser: { [hostile(1)]: 12 },
      daily: [{ day: Date.UTC(2026, 5, 1), created: 12, removed: 0, total: 12 }],
    },
    byAttribute: Object.fromEntries(hostileTexts.map((text, i) => [text, { key: text, values: [{ value: hostile(i + 1), count: 3 }], other: 0, none: 9 }])),
    subscriptions: hostileTexts.map((text, i) => ({
      id: `s${i}`,
      service: hostile(i),
      browser: hostile(i + 1),
      host: hostile(i + 2),
      attributes: { user: 'mallory', [text]: hostile(i + 3) },
      createdAt: Date.UTC(2026, 5, 1),
      updatedAt: Date.UTC(2026, 5, 1),
    })),
  });
}

/** A real push server over a memory store, with `subscribers` subscriptions at the local push service. */
export async function pushWithSubscribers(pushService: PushService, subscribers: { attributes: Record<string, string> }[]) {
  const store = memoryStore();
  for (const { attributes } of subscribers) await store.saveSubscription({ subscription: await pushService.subscribe(vapid.publicKey), attributes });
  const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
  return { store, push: push as typeof push & DashboardPush };
}
