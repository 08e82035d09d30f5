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
  if (isStale(envelope)) return 'stale';
  if (envelope.id !== undefined && (await w.seen.check(envelope.id, event))) return 'replayed';
}

/** True when the envelope's `ts` + `ttl` has passed. */
export const isStale = ({ ts, ttl }: Envelope): boolean => ts !== undefined && ttl !== undefined && ts + ttl * 1000 < Date.now();
