import type { Attributes, RegisterRequest } from '../../shared/protocol.js';
import type { SubscriptionStore } from '../stores/SubscriptionStore.js';

/** What became of a registration: saved (with its id), or refused because another browser's keys own the endpoint. */
export type Registration = { outcome: 'saved'; id: string; created: boolean } | { outcome: 'conflict' };

/**
 * Saves a validated registration under the identity the site's server vouched for.
 * An endpoint already stored is replaced only by whoever proves its keys (the browser
 * that made it) or by the same identified owner; anyone else gets a conflict and no id,
 * so knowing a victim's endpoint takes nothing over. Server-given attributes win over
 * browser-given ones of the same key.
 */
export async function registerSubscription(
  store: SubscriptionStore,
  request: RegisterRequest,
  identity: Attributes | undefined,
): Promise<Registration> {
  const existing = await store.getSubscriptionByEndpoint(request.subscription.endpoint);
  if (existing) {
    const { keys } = existing.subscription;
    const sameKeys = keys.p256dh === request.subscription.keys.p256dh && keys.auth === request.subscription.keys.auth;
    if (!sameKeys && !sameOwner(existing.attributes, identity)) return { outcome: 'conflict' };
  }
  const attributes: Attributes = { ...request.attributes, ...identity };
  const saved = await store.saveSubscription({ ...request, attributes });
  return { outcome: 'saved', ...saved };
}

function sameOwner(stored: Attributes, identity: Attributes | undefined): boolean {
  if (!identity) return false;
  const keys = Object.keys(identity);
  return keys.length > 0 && keys.every((key) => Object.hasOwn(stored, key) && stored[key] === identity[key]);
}
