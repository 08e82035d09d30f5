import type { HandlerOptions, RequestInfo } from './createHandler.js';
import type { RateLimiter } from './createRateLimiter.js';
import { json, readJsonBytes, tooManyRequests } from './json.js';
import { signedBy } from './signedBy.js';
import { validateEventsRequest } from './validateEventsRequest.js';
import { countedEvent } from '../stats/createReporter.js';

/** Retention runs at most this often, on the back of an events request. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * `POST {backend}/events`: signed events are verified against their subscription and
 * counted (each (message, subscription, type) once), unsigned ones stored as unverified,
 * and a signature that does not verify is refused with 403 and changes nothing (the
 * worker drops a batch refused with a 4xx, and keeps one that met a 5xx, 429 or no answer).
 * Rate-limited per verified subscription, else per client; the store's retention runs now
 * and then on its back.
 */
export function createEventsRoute(options: HandlerOptions, limiter: RateLimiter | undefined) {
  const { store, onError, report, observer } = options;
  let prunedAt = 0;

  const pruneEvents = async (): Promise<void> => {
    const now = Date.now();
    if (now - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = now;
    await store.deleteEventsBefore(now - options.eventRetentionMs).catch(onError);
  };

  return async (request: Request, info: RequestInfo): Promise<Response> => {
    const { value, bytes } = await readJsonBytes(request, options.maxBodyBytes);
    const { events, subscription } = validateEventsRequest(value);
    const signer = await signedBy(store, request, subscription, bytes);
    // A verified subscription has an allowance of its own, whoever shares its address.
    const key = limiter && (typeof signer === 'string' ? `subscription ${signer}` : options.clientKey(request, info));
    if (key !== undefined) {
      const wait = limiter!.take(key, events.length);
      if (wait > 0) {
        observer?.eventsRefused('rate-limited');
        return tooManyRequests(wait);
      }
    }
    if (signer === false) {
      observer?.eventsRefused('signature');
      return json(403, { error: 'forbidden', reason: 'signature' });
    }
    const now = Date.now();
    // Events older than retention count no more: a body replayed after its counts were pruned adds nothing.
    const recorded = await store.recordEvents({ events, countSince: now - options.eventRetentionMs, ...(signer ? { subscriptionId: signer } : {}) });
    for (const counted of recorded.counted) report(countedEvent(counted));
    observer?.eventsAccepted(signer !== undefined, events.length, recorded.counted.length);
    await pruneEvents();
    return json(202, { received: events.length, stored: recorded.stored, counted: recorded.counted.length });
  };
}
