import { pagedSubscriptions } from '../server/send/pagedSubscriptions.js';
import type { SubscriptionQuery, SubscriptionStore } from '../server/stores/SubscriptionStore.js';

/** A store that may count (every store of tidings does, with one COUNT). */
type CountingStore = SubscriptionStore & { countSubscriptions?(query?: SubscriptionQuery): Promise<number> };

/**
 * How many subscribers a send to `query` reaches, as the store answers now: with the
 * store's countSubscriptions, else by reading the pages a send would.
 */
export async function countAudience(store: CountingStore, query: SubscriptionQuery): Promise<number> {
  if (typeof store.countSubscriptions === 'function') return store.countSubscriptions(query);
  let count = 0;
  for await (const _ of pagedSubscriptions(store, query)) count++;
  return count;
}
