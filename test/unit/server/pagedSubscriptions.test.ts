import { describe, expect, it } from 'vitest';
import { memoryStore, type StoredSubscription, type SubscriptionStore } from '../../../src/server/index.js';
import { pagedSubscriptions } from '../../../src/server/send/pagedSubscriptions.js';

async function storeWith(count: number): Promise<SubscriptionStore> {
  const store = memoryStore();
  for (let n = 0; n < count; n++) {
    await store.saveSubscription({
      subscription: { endpoint: `https://push.example.net/${n}`, expirationTime: null, keys: { p256dh: 'p', auth: 'a' } },
      attributes: { group: n % 2 },
    });
  }
  return store;
}

async function collect(pages: AsyncIterable<StoredSubscription>): Promise<string[]> {
  const ids: string[] = [];
  for await (const entry of pages) ids.push(entry.id);
  return ids;
}

/** A store whose findSubscriptions answers every match whatever the paging asks: a site's own store that never read the contract. */
function ignoringPaging(store: SubscriptionStore): SubscriptionStore {
  return { ...store, findSubscriptions: ({ ids, attributes } = {}) => store.findSubscriptions({ ids, attributes }) };
}

describe('pagedSubscriptions', () => {
  it('reads every match once, a page at a time', async () => {
    const store = await storeWith(7);
    const queries: object[] = [];
    const spy: SubscriptionStore = { ...store, findSubscriptions: (query) => (queries.push(query!), store.findSubscriptions(query)) };
    const ids = await collect(pagedSubscriptions(spy, {}, 3));
    expect(ids).toEqual((await store.findSubscriptions()).map((entry) => entry.id).sort());
    expect(queries).toHaveLength(3);
    expect(queries[0]).toEqual({ limit: 3 });
    expect(queries[1]).toEqual({ limit: 3, after: ids[2] });
  });

  it('keeps the query, and reads no page after a short one', async () => {
    const store = await storeWith(6);
    let calls = 0;
    const counting: SubscriptionStore = { ...store, findSubscriptions: (query) => (calls++, store.findSubscriptions(query)) };
    expect(await collect(pagedSubscriptions(counting, { attributes: { group: 1 } }, 2))).toHaveLength(3);
    expect(calls).toBe(2);
  });

  it('does not miss the subscriptions after one deleted mid-way (gone ones are pruned while sending)', async () => {
    const store = await storeWith(5);
    const seen: string[] = [];
    for await (const entry of pagedSubscriptions(store, {}, 2)) {
      seen.push(entry.id);
      await store.deleteSubscription(entry.id);
    }
    expect(seen).toHaveLength(5);
    expect(await store.findSubscriptions()).toEqual([]);
  });

  it('fails with store-failed, before yielding the page, when a store ignores the paging', async () => {
    const many = ignoringPaging(await storeWith(5));
    const seen: string[] = [];
    const error = await (async () => {
      for await (const entry of pagedSubscriptions(many, {}, 2)) seen.push(entry.id);
    })().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'store-failed', details: { reason: expect.stringMatching(/paging/) } });
    expect(seen).toEqual([]);
    // Fewer than a page: in any order, that is all there is, so nothing to refuse.
    expect(await collect(pagedSubscriptions(ignoringPaging(await storeWith(2)), {}, 3))).toHaveLength(2);
  });
});
