import { fromBase64Url } from '../shared/base64url.js';
import { MESSAGE_SOURCE, type SubscriptionChangedMessage, type SubscriptionJSON } from '../shared/protocol.js';
import { windowClients } from './windowClients.js';
import type { WorkerContext } from './WorkerContext.js';

declare const self: ServiceWorkerGlobalScope;

/**
 * `pushsubscriptionchange`: the browser refreshed the subscription, or dropped it
 * (`newSubscription` null). A dropped one is made again with the VAPID key (the option,
 * else the key the page last registered with); the new one is registered with the
 * backend through the page SDK's own backendSync (same retries, same queue in
 * IndexedDB), `resubscribed` is recorded and the open tabs are told.
 */
export function handleSubscriptionChange(w: WorkerContext, event: ExtendableEvent): void {
  // A failure, or no subscription to be had, is recorded by run() as `failed`.
  w.run(event, async () => {
    const sync = w.sync;
    const key = w.options.vapidPublicKey ?? (await sync?.read())?.sync?.vapidPublicKey;
    const subscription =
      (event as ExtendableEvent & { newSubscription?: PushSubscription | null }).newSubscription ??
      (key
        ? await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(key) })
        : null);
    if (!subscription) throw 'no-subscription';
    await sync?.resubscribe(subscription.toJSON() as SubscriptionJSON);
    void w.outbox.record('resubscribed');
    const message: SubscriptionChangedMessage = { source: MESSAGE_SOURCE, kind: 'subscription-changed', endpoint: subscription.endpoint };
    for (const client of await windowClients()) client.postMessage(message);
    await w.call('subscriptionDidChange', subscription);
  });
}
