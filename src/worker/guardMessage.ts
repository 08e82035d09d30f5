import type { Envelope } from '../shared/protocol.js';
import type { WorkerContext } from './WorkerContext.js';

/** How many message ids the `seen` store remembers; older ones are forgotten first. */
export const SEEN_LIMIT = 500;

/**
 * Says why a message must not be routed: 'stale' when `ts` + `ttl` has passed, 'replayed'
 * when its id was seen before. Remembering the id and checking for it are one
 * transaction, so two deliveries of one id at once cannot both pass. Where IndexedDB is
 * refused, replays cannot be told apart: showing twice beats losing a message.
 */
export async function guardMessage(w: WorkerContext, envelope: Envelope): Promise<'stale' | 'replayed' | undefined> {
  const { id, ts, ttl } = envelope;
  if (ts !== undefined && ttl !== undefined && ts + ttl * 1000 < Date.now()) return 'stale';
  const db = id && (await w.db());
  if (!db) return;
  try {
    const tx = db.transaction('seen', 'readwrite');
    if (await tx.store.get(id)) return 'replayed';
    void tx.store.put({ id, at: Date.now() });
    let extra = (await tx.store.count()) - SEEN_LIMIT;
    for (let cursor = extra > 0 ? await tx.store.index('at').openCursor() : null; cursor && extra-- > 0; cursor = await cursor.continue()) {
      void cursor.delete();
    }
    await tx.done;
  } catch {
    // Storage failed mid-way: let the message through.
  }
}
