import type { HandlerOptions, RequestInfo } from './createHandler.js';
import type { RateLimiter } from './createRateLimiter.js';
import { json, readJson, tooManyRequests } from './json.js';
import { validateEventsRequest } from './validateEventsRequest.js';

/** Retention runs at most this often, on the back of an events request. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** `POST {backend}/events`, rate-limited per client, with the store's retention run now and then on its back. */
export function createEventsRoute(options: HandlerOptions, limiter: RateLimiter | undefined) {
  const { store, onError } = options;
  let prunedAt = 0;

  const pruneEvents = async (): Promise<void> => {
    const now = Date.now();
    if (now - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = now;
    await store.deleteEventsBefore(now - options.eventRetentionMs).catch(onError);
  };

  return async (request: Request, info: RequestInfo): Promise<Response> => {
    const { events } = validateEventsRequest(await readJson(request, options.maxBodyBytes));
    const key = limiter && options.clientKey(request, info);
    if (key !== undefined) {
      const wait = limiter!.take(key, events.length);
      if (wait > 0) return tooManyRequests(wait);
    }
    const stored = await store.addEvents(events);
    await pruneEvents();
    return json(202, { received: events.length, stored });
  };
}
