import type { Envelope } from '../shared/protocol.js';
import type { WorkerContext } from './WorkerContext.js';

/** Why a message is not routed, if it is not. */
export type Skipped = 'stale' | 'replayed' | undefined;

/**
 * Says why a message must not be routed: 'stale' when `ts` + `ttl` has passed, 'replayed'
 * when its id was seen before (see createSeenIds). Records `delivered` unless it is a
 * replay, which was counted the first time.
 */
export async function guardMessage(w: WorkerContext, envelope: Envelope, event: ExtendableEvent): Promise<Skipped> {
  const skipped = isStale(envelope)
    ? 'stale'
    : envelope.id !== undefined && (await w.seen.check(envelope.id, event))
      ? 'replayed'
      : undefined;
  if (envelope.analytics !== false && skipped != 'replayed') void w.outbox.record('delivered', envelope.id);
  return skipped;
}

/** True when the envelope's `ts` + `ttl` has passed. */
export const isStale = ({ ts, ttl }: Envelope): boolean => ts !== undefined && ttl !== undefined && ts + ttl * 1000 < Date.now();
