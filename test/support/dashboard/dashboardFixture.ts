// TEST SUPPORT: a real push server (createPushServer, memoryStore) with subscriptions at
// the local push service, for the dashboard's handler tests.
import { createPushServer, generateVapidKeys, memoryStore } from '../../../src/server/index.js';
import type { DashboardPush } from '../../../src/dashboard/dashboardTypes.js';
import type { PushService } from '../../../src/testing/index.js';

export const vapid = { ...generateVapidKeys(), subject: 'mailto:dashboard@tidings.example' };

/** A real push server over a memory store, with `subscribers` subscriptions at the local push service. */
export async function pushWithSubscribers(pushService: PushService, subscribers: { attributes: Record<string, string> }[]) {
  const store = memoryStore();
  for (const { attributes } of subscribers) await store.saveSubscription({ subscription: await pushService.subscribe(vapid.publicKey), attributes });
  const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
  return { store, push: push as typeof push & DashboardPush };
}
