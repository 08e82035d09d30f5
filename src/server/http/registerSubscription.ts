import type { Attributes, RegisterRequest } from '../../shared/protocol.js';
import type { SaveDecision, StoredSubscription, SubscriptionStore } from '../stores/SubscriptionStore.js';

/** What became of a registration: saved (with its id), or refused because another browser's keys own the endpoint. */
export type Registration = { outcome: 'saved'; id: string; created: boolean } | { outcome: 'conflict' };

/** Thrown by the decision to refuse, so the store writes nothing and rolls back. */
class EndpointOwned extends Error {}

/**
 * Saves a validated registration under the identity the site's server vouched for. The
 * store decides inside its own transaction (saveSubscription's `decide`), so of two
 * registrations of one endpoint racing each other the second decides on what the first
 * wrote: an endpoint already stored is replaced only by whoever proves its keys (the
 * browser that made it) or by the same identified owner; anyone else gets a conflict and
 * no id, so knowing a victim's endpoint takes nothing over.
 *
 * What a re-registration does with each kind of attribute (docs/server.md says the same):
 * - chosen by the visitor (keys in `clientAttributes`): replaced by the registration's
 *   `attributes` when it carries them (`{}` clears them), kept when it carries none;
 * - identity (what `identify` answers): always this request's answer; an anonymous
 *   request stores none, another identity replaces the old one (with the same keys only
 *   when the owner may take the endpoint, see above);
 * - set by the server (`push.setAttributes`): kept while the identity stays the same
 *   (anonymous to anonymous included), dropped when it changes, as they belonged to the
 *   previous owner.
 * A key `identify` answers wins over a visitor's key of the same name.
 */
export async function registerSubscription(
  store: SubscriptionStore,
  request: RegisterRequest,
  identity: Attributes | undefined,
  clientKeys: readonly string[],
  /** The browser family of the request's User-Agent (browserFamilyOf), kept for the figures. */
  browser?: string,
): Promise<Registration> {
  try {
    const saved = await store.saveSubscription(request, (existing) => {
      const decision = decide(existing, request, identity ?? {}, clientKeys);
      return browser === undefined ? decision : { ...decision, browser };
    });
    return { outcome: 'saved', ...saved };
  } catch (error) {
    if (error instanceof EndpointOwned || (error as Error | undefined)?.cause instanceof EndpointOwned) return { outcome: 'conflict' };
    throw error;
  }
}

function decide(existing: StoredSubscription | undefined, request: RegisterRequest, identity: Attributes, clientKeys: readonly string[]): SaveDecision {
  const identityKeys = Object.keys(identity);
  if (!existing) return { attributes: { ...request.attributes, ...identity }, identityKeys };
  const { keys } = existing.subscription;
  const sameKeys = keys.p256dh === request.subscription.keys.p256dh && keys.auth === request.subscription.keys.auth;
  const owner = storedIdentity(existing, clientKeys);
  if (!sameKeys && !(identityKeys.length > 0 && identityKeys.every((key) => Object.hasOwn(owner, key) && owner[key] === identity[key]))) {
    throw new EndpointOwned();
  }
  const chosen = request.attributes ?? pick(existing.attributes, (key) => clientKeys.includes(key) && !Object.hasOwn(owner, key));
  const sameIdentity = existing.identityKeys !== undefined && equal(owner, identity);
  // Rows written before identityKeys was kept: every key the visitor could not choose counts as identity, so none survives as a tag.
  const tags = sameIdentity ? pick(existing.attributes, (key) => !clientKeys.includes(key) && !Object.hasOwn(owner, key)) : {};
  return { attributes: { ...chosen, ...tags, ...identity }, identityKeys };
}

/** The owner's attributes as stored: the identity keys, or (on older rows) every key the visitor could not set. */
function storedIdentity(existing: StoredSubscription, clientKeys: readonly string[]): Attributes {
  const identityKeys = existing.identityKeys;
  return pick(existing.attributes, identityKeys ? (key) => identityKeys.includes(key) : (key) => !clientKeys.includes(key));
}

function pick(attributes: Attributes, keep: (key: string) => boolean): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([key]) => keep(key)));
}

function equal(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}
