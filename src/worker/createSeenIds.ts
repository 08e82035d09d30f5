import type { TidingsDatabase } from '../shared/db.js';

/** How many message ids the `seen` store remembers; older ones are forgotten first. */
export const SEEN_LIMIT = 500;

/**
 * Remembers message ids in IndexedDB (the `seen` store, bounded). `check(id)` resolves
 * true when the id was seen before, and remembers it. Ids asked for while a transaction
 * runs are checked together in the next one: a burst of pushes costs a few transactions,
 * not one each in a row. Checking and remembering share a transaction, and two
 * deliveries of one id in a batch count as a replay, so one id never passes twice.
 * Where IndexedDB fails every id passes: showing twice beats losing a message.
 */
export function createSeenIds(db: () => Promise<TidingsDatabase | undefined>): (id: string) => Promise<boolean> {
  let queue: { id: string; answer: (seen: boolean) => void }[] = [];
  let draining: Promise<void> | undefined;
  const drain = async () => {
    try {
      while (queue.length) {
        const batch = queue;
        queue = [];
        try {
          const tx = (await db())!.transaction('seen', 'readwrite');
          const found = await Promise.all(batch.map(({ id }) => tx.store.get(id)));
          const fresh = new Set<string>();
          batch.forEach(({ id, answer }, i) => {
            answer(!!found[i] || fresh.has(id));
            fresh.add(id);
          });
          // The pushes go on; remembering and trimming finish in this transaction meanwhile.
          const at = Date.now();
          for (const id of fresh) void tx.store.put({ id, at });
          let extra = (await tx.store.count()) - SEEN_LIMIT;
          for (let cursor = extra > 0 ? await tx.store.index('at').openCursor() : null; cursor && extra-- > 0; cursor = await cursor.continue()) {
            void cursor.delete();
          }
          await tx.done;
        } catch {
          for (const { answer } of batch) answer(false);
        }
      }
    } finally {
      draining = undefined;
    }
  };
  return (id) =>
    new Promise((answer) => {
      queue.push({ id, answer });
      draining ??= drain();
    });
}
