import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes } from '../../shared/protocol.js';
import { isTidingsError } from '../../shared/TidingsError.js';
import type { EndpointPolicy } from '../endpoints/checkEndpoint.js';
import { checkRequestSite } from './checkRequestSite.js';
import { createRateLimiter, type RateLimit } from './createRateLimiter.js';
import { createEventsRoute } from './handleEvents.js';
import { handleRegistration } from './handleRegistration.js';
import { json, notAllowed, tooManyRequests } from './json.js';
import type { SubscriptionStore } from '../stores/SubscriptionStore.js';
import { markUnrouted } from './unrouted.js';
import type { Reporter } from '../stats/createReporter.js';
import type { HttpObserver } from './HttpObserver.js';

/**
 * Who is asking, as the site's server knows it: attributes to store, `null` to refuse
 * (401), `undefined` for an anonymous visitor. `context` holds the framework's own objects
 * for the request (see RequestContext), so a session your framework already loaded
 * (`req.session` under Express) is one property away.
 */
export type Identify = (request: Request, context: RequestContext) => Attributes | null | undefined | Promise<Attributes | null | undefined>;

/**
 * The framework's own objects for a request, handed to `identify` as they are:
 * `toNodeHandler` (Express, Connect, node:http) passes `{ req, res }` (Express's request,
 * with `req.session`, `req.user`…), `toFastifyPlugin` passes `{ request, reply }`.
 * Where the handler is called directly (Hono, Next.js), pass your own:
 * `push.handler(c.req.raw, { context: { c } })`. Empty when nothing was passed.
 */
export interface RequestContext {
  /**
   * Under toNodeHandler: the request as the framework has it, with what its middleware
   * added (`session`, `user`…). Typed as Node's; in TypeScript say which it is:
   * `(req as express.Request).session`.
   */
  req?: IncomingMessage;
  res?: ServerResponse;
  /** Under toFastifyPlugin: Fastify's request (with `session` from @fastify/session) and reply. */
  request?: { raw: IncomingMessage; [key: string]: unknown };
  reply?: unknown;
  [key: string]: unknown;
}

/**
 * What the platform knows of a request beyond the Fetch `Request`. `toNodeHandler` (and
 * so Express, Connect and Fastify) passes the peer's address; elsewhere pass it yourself
 * (docs/server.md, "Client addresses"): without it no client is limited on its own.
 */
export interface RequestInfo {
  /** The address of the peer of the connection (a proxy's when one is in front: see `trustProxy`). */
  clientAddress?: string;
  /** Passed to `identify` as its second argument (the mounts set it). @default {} */
  context?: RequestContext;
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
  registrationRate: RateLimit | false;
  eventRetentionMs: number;
  /** Names the client for the rate limits, undefined for none (createPushServer makes it from `clientKey` or `trustProxy`). */
  clientKey: (request: Request, info: RequestInfo) => string | undefined;
  onError: (error: unknown) => void;
  /** Hands each counted event to the site's `onEvent`. */
  report: Reporter;
  /** Told what became of each registration and events request (the metrics). */
  observer?: HttpObserver | undefined;
}

/**
 * The backend HTTP contract of DESIGN.md as one Fetch-API function. Every body is
 * validated; a bad one gets a 400 JSON error naming the field, an oversize one 413.
 * Registration is open to the internet, so the handler trusts the browser for nothing
 * but the subscription: identity comes from `identify`, state changes must be JSON and
 * same-site, registrations and events are rate-limited per client, and events are kept
 * for a bounded time.
 */
export function createHandler(options: HandlerOptions): (request: Request, info?: RequestInfo) => Promise<Response> {
  const { store, routePath, onError, observer } = options;
  const events = createEventsRoute(options, options.eventRate ? createRateLimiter(options.eventRate) : undefined);
  const registrations = options.registrationRate ? createRateLimiter(options.registrationRate) : undefined;

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
    // The requests the metrics count a refusal of: registrations and events.
    const counted = request.method === 'POST' && id === undefined ? collection : undefined;
    const refusal = (reason: 'invalid' | 'cross-site' | 'rate-limited' | 'error') => {
      if (counted === 'subscriptions') observer?.registration(reason);
      else if (counted === 'events') observer?.eventsRefused(reason);
    };
    try {
      if (request.method === 'POST' || request.method === 'DELETE') {
        const refused = checkRequestSite(request, url, options.allowedOrigins);
        if (refused) {
          refusal('cross-site');
          return json(403, { error: 'forbidden', reason: refused });
        }
      }
      if (collection === 'subscriptions' && id === undefined) {
        if (request.method !== 'POST') return notAllowed('POST');
        // Counted before the body is read: junk costs its sender the allowance, not us the work.
        const key = registrations && options.clientKey(request, info);
        const wait = key === undefined ? 0 : registrations!.take(key, 1);
        if (wait > 0) {
          refusal('rate-limited');
          return tooManyRequests(wait);
        }
        return await handleRegistration(request, info, options);
      }
      if (collection === 'subscriptions' && id) {
        if (request.method !== 'DELETE') return notAllowed('DELETE');
        const deleted = await store.deleteSubscription(id);
        return deleted ? new Response(null, { status: 204 }) : json(404, { error: 'not-found' });
      }
      if (collection === 'events' && id === undefined) {
        if (request.method !== 'POST') return notAllowed('POST');
        return await events(request, info);
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
        refusal('invalid');
        const { field, reason } = error.details;
        if (reason === 'too-large') return json(413, { error: 'invalid-request', field, reason });
        if (reason === 'not-json-content-type') return json(415, { error: 'unsupported-media-type', field, reason });
        return json(400, { error: 'invalid-request', field, reason });
      }
      refusal('error');
      onError(error);
      return json(500, { error: 'internal' });
    }
  };
}
