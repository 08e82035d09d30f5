/**
 * Responses the handler gives to requests outside its `basePath`. Adapters that can
 * pass a request on (Express's `next()`, Fastify's scope) use this to let the rest of
 * the app answer, instead of tidings' 404 swallowing it. A WeakSet: nothing is kept.
 */
const unrouted = new WeakSet<Response>();

export function markUnrouted(response: Response): Response {
  unrouted.add(response);
  return response;
}

export function isUnrouted(response: Response): boolean {
  return unrouted.has(response);
}
