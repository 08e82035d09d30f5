import { TidingsError } from '../../shared/TidingsError.js';
import type { StoredSubscription, SubscriptionQuery, SubscriptionStore } from '../stores/SubscriptionStore.js';

/** How many subscriptions send() holds at once, whatever the audience. */
export const PAGE_SIZE = 1000;

/**
 * Every subscription matching `query`, read from the store a page at a time (ids in
 * order, each page after the last id of the one before), so a send to a million
 * subscribers holds a thousand. Paging by id, not by offset, skips nothing when gone
 * subscriptions are deleted mid-way. A store that does not keep to the paging contract
 * would make a send repeat or skip subscribers: that is refused with `store-failed`
 * before any of its page is handed out.
 */
export async function* pagedSubscriptions(
  store: SubscriptionStore,
  query: SubscriptionQuery,
  pageSize = PAGE_SIZE,
): AsyncGenerator<StoredSubscription> {
  for await (const page of subscriptionPages(store, query, pageSize)) yield* page;
}

/**
 * The same pages, each whole (for what is done a page at a time: frequency caps), from
 * the first id after `start` (a send taken over where the last page was finished).
 */
export async function* subscriptionPages(
  store: SubscriptionStore,
  query: SubscriptionQuery,
  pageSize = PAGE_SIZE,
  start?: string,
): AsyncGenerator<StoredSubscription[]> {
  for (let after = start; ; ) {
    const page = await store.findSubscriptions({ ...query, limit: pageSize, after });
    const last = after;
    const full = page.length === pageSize;
    // A short page is the last one, so its order does not matter; a full one sets `after`.
    const refused =
      page.length > pageSize ||
      (last !== undefined && page.some((entry) => entry.id <= last)) ||
      (full && page.some((entry, i) => i > 0 && entry.id <= page[i - 1]!.id));
    if (refused) throw new TidingsError('store-failed', { reason: 'findSubscriptions ignored its paging (limit, after, id order)' });
    yield page;
    if (!full) return;
    after = page.at(-1)!.id;
  }
}
