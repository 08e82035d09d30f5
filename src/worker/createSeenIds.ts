import type { TidingsDatabase } from './db.js';

/** How many message ids the `seen` store remembers; older ones are forgotten first. */
export const SEEN_LIMIT = 500;

export interface SeenIds {
  /**
   * Resolves true when `id` was seen before, and remembers it. The write to IndexedDB runs
   * meanwhile, kept alive by `event.waitUntil`, so the push does not wait for it.
   */
  check(id: string, event: ExtendableEvent): Promise<boolean>;
}

/**
 * Remembers message ids: the `seen` store in IndexedDB, bounded to SEEN_LIMIT, is read
 * once per worker, at its first check (one readonly getAllKeys of the store: the primary
 * keys, which is faster on a cold start than going through the `at` index) and kept in a Set for the
 * worker's lifetime, so a warm push never waits on IndexedDB to learn it is not a
 * replay. Checking and remembering touch only the Set, with no await between them, so
 * two deliveries of one id never both pass. A new id goes to IndexedDB once the
 * notification was shown (Notifier.settled), and in the same transaction the oldest ids
 * beyond SEEN_LIMIT (by the `at` index) leave the store and the Set; a restarted worker
 * reads the store back, so a replay is still caught then.
 * Where IndexedDB fails the ids live only in memory: replays are caught while the worker runs.
 */
export function createSeenIds(db: () => Promise<TidingsDatabase | undefined>, settled: () => Promise<void>): SeenIds {
  let ids: Promise<Set<string>> | undefined;
  return {
    async check(id, event) {
      const seen = await (ids ??= db()
        .then(async (database) => new Set(await database?.getAllKeys('seen')))
        .catch(() => new Set<string>()));
      if (seen.has(id)) return true;
      seen.add(id);
      event.waitUntil(
        settled()
          .then(async () => {
            const tx = (await db())!.transaction('seen', 'readwrite');
            void tx.store.put({ id, at: Date.now() });
            const extra = (await tx.store.count()) - SEEN_LIMIT;
            for (const old of extra > 0 ? await tx.store.index('at').getAllKeys(null, extra) : []) {
              seen.delete(old);
              void tx.store.delete(old);
            }
            await tx.done;
          })
          .catch(() => {
            // No IndexedDB: the Set alone is bounded, oldest first (it keeps insertion order).
            for (const old of seen) {
              if (seen.size <= SEEN_LIMIT) break;
              seen.delete(old);
            }
          }),
      );
      return false;
    },
  };
}
