import { SIGNATURE_HEADER, verifyEvents } from '../crypto/eventsSignature.js';
import type { SubscriptionStore } from '../stores/SubscriptionStore.js';

/**
 * Who an events request proves it comes from: the id of the subscription it names when
 * its signature verifies against that subscription's stored `auth` secret; `undefined`
 * when it carries no signature (an older worker, or one that has no subscription id yet:
 * its events are unverified, and a subscription it names is ignored); `false` when it is
 * signed but does not verify (a wrong key, another subscription's id, an unknown one,
 * other bytes than were signed), which the route refuses.
 */
export async function signedBy(store: SubscriptionStore, request: Request, named: string | undefined, body: Uint8Array): Promise<string | undefined | false> {
  const header = request.headers.get(SIGNATURE_HEADER);
  if (header === null) return undefined;
  if (named === undefined) return false;
  const stored = await store.getSubscription(named);
  if (!stored || !verifyEvents(stored.subscription.keys.auth, body, header)) return false;
  return stored.id;
}
