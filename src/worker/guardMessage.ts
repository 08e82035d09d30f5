import type { Envelope } from '../shared/protocol.js';
import type { WorkerContext } from './WorkerContext.js';

/**
 * Says why a message must not be routed: 'stale' when `ts` + `ttl` has passed, 'replayed'
 * when its id was seen before (see createSeenIds).
 */
export async function guardMessage(
  w: WorkerContext,
  envelope: Envelope,
  event: ExtendableEvent,
): Promise<'stale' | 'replayed' | undefined> {
  const { id, ts, ttl } = envelope;
  if (ts !== undefined && ttl !== undefined && ts + ttl * 1000 < Date.now()) return 'stale';
  if (id !== undefined && (await w.seen.check(id, event))) return 'replayed';
}
