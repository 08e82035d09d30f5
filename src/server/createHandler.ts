import type { Attributes } from '../shared/protocol.js';
import { isTidingsError, TidingsError } from '../shared/TidingsError.js';
import type { EndpointPolicy } from './checkEndpoint.js';
import { checkRequestSite } from './checkRequestSite.js';
import { createRateLimiter, type RateLimit } from './createRateLimiter.js';
import { isP256Point } from './isP256Point.js';
import { readBody } from './readBody.js';
import { registerSubscription } from './registerSubscription.js';
import type { SubscriptionStore } from './SubscriptionStore.js';
import { markUnrouted } from './unrouted.js';
import { fail, isRecord } from './invalidRequest.js';
import { validateRegisterRequest } from './validateRegisterRequest.js';
import { validateEventsRequest } from './validateEventsRequest.js';

/** Who is asking, as the site's server knows it: attributes to store, `null` to refuse (401), `undefined` for an anonymous visitor. */
export type Identify = (request: Request) => Attributes | null | undefined | Promise<Attributes | null | undefined>;

/** What the platform knows of a request beyond the Fetch `Request` (toNodeHandler passes the peer's address). */
export interface RequestInfo {
  clientAddress?: string;
}

export interface HandlerOptions {
  store: SubscriptionStore;
  /** The path prefix of the requests the handler is given (a framework may have stripped part of the public one). */
  routePath: string;
  maxBodyBytes: number;
  /** Which push services a subscription's endpoint may name. */
  endpoints: EndpointPolicy;
  identify: Identify | undefined;
  clientAttributes: readonly string[];
  allowedOrigins: readonly string[];
  eventRate: RateLimit | false;
  eventRetentionMs: number;
  clientKey: ((request: Request, info: RequestInfo) => string) | undefined;
  onError: (error: unknown) => void;
}

/** Retention runs at most this often, on the back of an events request. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * The backend HTTP contract of DESIGN.md as one Fetch-API function. Every body is
 * validated; a bad one gets a 400 JSON error naming the field, an oversize one 413.
 * Registration is open to the internet, so the handler trusts the browser for nothing
 * but the subscription: identity comes from `identify`, state changes must be JSON and
 * same-site, and events are rate-limited per client and kept for a bounded time.
 */
export function createHandler(options: HandlerOptions): (request: Request, info?: RequestInfo) => Promise<Response> {
  const { store, routePath, maxBodyBytes, onError } = options;
  const limiter = options.eventRate ? createRateLimiter(options.eventRate) : undefined;
  let prunedAt = 0;

  const pruneEvents = async (): Promise<void> => {
    const now = Date.now();
    if (now - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = now;
    await store.deleteEventsBefore(now - options.eventRetentionMs).catch(onError);
  };

  const identify = async (request: Request): Promise<Attributes | null | undefined> => {
    if (!options.identify) return undefined;
    const identity = await options.identify(request);
    if (identity === null || identity === undefined) return identity;
    if (!isRecord(identity) || !Object.values(identity).every((value) => ['string', 'number', 'boolean'].includes(typeof value))) {
      throw new TidingsError('invalid-option', { option: 'identify', reason: 'must return attributes with string, number or boolean values, null or undefined' });
    }
    return identity;
  };

  return async (request, info = {}) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return json(400, { error: 'invalid-request', field: 'url' });
    }
    const path = url.pathname;
    if (path !== routePath && !path.startsWith(`${routePath}/`)) return markUnrouted(json(404, { error: 'not-found' }));
    const [collection, rawId, ...rest] = path.slice(routePath.length + 1).split('/');
    if (rest.length > 0 || !collection) return json(404, { error: 'not-found' });
    let id: string | undefined;
    try {
      id = rawId === undefined ? undefined : decodeURIComponent(rawId);
    } catch {
      // A malformed percent-escape names nothing stored.
      return json(404, { error: 'not-found' });
    }
    try {
      if (request.method === 'POST' || request.method === 'DELETE') {
        const refused = checkRequestSite(request, url, options.allowedOrigins);
        if (refused) return json(403, { error: 'forbidden', reason: refused });
      }
      if (collection === 'subscriptions' && id === undefined) {
        if (request.method !== 'POST') return notAllowed('POST');
        const body = validateRegisterRequest(await readJson(request, maxBodyBytes), {
          endpoints: options.endpoints,
          clientAttributes: options.clientAttributes,
        });
        if (!(await isP256Point(body.subscription.keys.p256dh))) fail('subscription.keys.p256dh', 'not-p256-point');
        if (body.sealKey && !(await isP256Point(body.sealKey.p256dh))) fail('sealKey.p256dh', 'not-p256-point');
        const identity = await identify(request);
        if (identity === null) return json(401, { error: 'unauthorized' });
        const saved = await registerSubscription(store, body, identity);
        if (saved.outcome === 'conflict') return json(409, { error: 'conflict', field: 'subscription.endpoint' });
        return json(saved.created ? 201 : 200, { id: saved.id });
      }
      if (collection === 'subscriptions' && id) {
        if (request.method !== 'DELETE') return notAllowed('DELETE');
        const deleted = await store.deleteSubscription(id);
        return deleted ? new Response(null, { status: 204 }) : json(404, { error: 'not-found' });
      }
      if (collection === 'events' && id === undefined) {
        if (request.method !== 'POST') return notAllowed('POST');
        const { events } = validateEventsRequest(await readJson(request, maxBodyBytes));
        if (limiter) {
          const key = options.clientKey?.(request, info) ?? info.clientAddress ?? 'anonymous';
          const wait = limiter.take(key, events.length);
          if (wait > 0) {
            const response = json(429, { error: 'rate-limited' });
            response.headers.set('retry-after', String(Math.ceil(wait / 1000)));
            return response;
          }
        }
        const stored = await store.addEvents(events);
        await pruneEvents();
        return json(202, { received: events.length, stored });
      }
      if (collection === 'messages' && id) {
        if (request.method !== 'GET' && request.method !== 'HEAD') return notAllowed('GET, HEAD');
        const body = await store.getMessage(id);
        if (body === undefined) return json(404, { error: 'not-found' });
        // The URL is a capability for one message: keep it out of shared caches.
        return new Response(request.method === 'HEAD' ? null : body, {
          status: 200,
          headers: { 'content-type': 'application/json', 'cache-control': 'private, no-store' },
        });
      }
      return json(404, { error: 'not-found' });
    } catch (error) {
      if (isTidingsError(error, 'invalid-request')) {
        const { field, reason } = error.details;
        if (reason === 'too-large') return json(413, { error: 'invalid-request', field, reason });
        if (reason === 'not-json-content-type') return json(415, { error: 'unsupported-media-type', field, reason });
        return json(400, { error: 'invalid-request', field, reason });
      }
      onError(error);
      return json(500, { error: 'internal' });
    }
  };
}

/**
 * Reads a JSON body. Only `application/json` is read: a form, `text/plain` or a body
 * with no type is what a cross-site form or a "simple" fetch sends without a preflight.
 */
async function readJson(request: Request, limit: number): Promise<unknown> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') fail('content-type', 'not-json-content-type');
  const text = await readBody(request, limit);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fail('body', 'json');
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function notAllowed(allow: string): Response {
  const response = json(405, { error: 'method-not-allowed' });
  response.headers.set('allow', allow);
  return response;
}
