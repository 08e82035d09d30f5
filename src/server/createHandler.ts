import { isTidingsError } from '../shared/TidingsError.js';
import { readBody } from './readBody.js';
import type { SubscriptionStore } from './SubscriptionStore.js';
import { fail } from './validateRegisterRequest.js';
import { validateEventsRequest } from './validateEventsRequest.js';
import { validateRegisterRequest } from './validateRegisterRequest.js';

export interface HandlerOptions {
  store: SubscriptionStore;
  basePath: string;
  maxBodyBytes: number;
  /** Accept subscriptions whose endpoint is on loopback (local push services). */
  allowLoopbackEndpoints: boolean;
}

/**
 * The backend HTTP contract of DESIGN.md as one Fetch-API function. Every body is
 * validated; a bad one gets a 400 JSON error naming the field, an oversize one 413.
 */
export function createHandler({ store, basePath, maxBodyBytes, allowLoopbackEndpoints }: HandlerOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    let path: string;
    try {
      path = new URL(request.url).pathname;
    } catch {
      return json(400, { error: 'invalid-request', field: 'url' });
    }
    if (path !== basePath && !path.startsWith(`${basePath}/`)) return json(404, { error: 'not-found' });
    const [collection, rawId, ...rest] = path.slice(basePath.length + 1).split('/');
    if (rest.length > 0 || !collection) return json(404, { error: 'not-found' });
    let id: string | undefined;
    try {
      id = rawId === undefined ? undefined : decodeURIComponent(rawId);
    } catch {
      // A malformed percent-escape names nothing stored.
      return json(404, { error: 'not-found' });
    }
    try {
      if (collection === 'subscriptions' && id === undefined) {
        if (request.method !== 'POST') return notAllowed('POST');
        const body = validateRegisterRequest(await readJson(request, maxBodyBytes), allowLoopbackEndpoints);
        const saved = await store.saveSubscription(body);
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
        const stored = await store.addEvents(events);
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
        return json(reason === 'too-large' ? 413 : 400, { error: 'invalid-request', field, reason });
      }
      return json(500, { error: 'internal' });
    }
  };
}

async function readJson(request: Request, limit: number): Promise<unknown> {
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
