import type { StaticServer } from './staticServer.js';

export interface ContractBackend {
  /** POST and DELETE requests under the prefix, in order: `METHOD /path`. */
  requests: string[];
  /** Bodies of the POSTs, in order. */
  bodies: unknown[];
  /** Subscriptions held, by id. */
  stored: Map<string, { subscription: { endpoint: string } }>;
  /** What the next requests get: a status to answer with, or 'hang'. Empty: the contract. */
  script: (number | 'hang')[];
}

/**
 * Adds the backend HTTP contract (DESIGN.md) at `prefix` on the static server, same
 * origin as the page: POST /subscriptions idempotent on the endpoint (201 new, 200
 * known), DELETE /subscriptions/{id} (204, or 404 when unknown).
 */
export function contractBackend(server: StaticServer, prefix = '/api/push'): ContractBackend {
  const backend: ContractBackend = { requests: [], bodies: [], stored: new Map(), script: [] };
  let next = 1;
  server.route(async (req, res, url) => {
    if (!url.pathname.startsWith(prefix + '/')) return false;
    const path = url.pathname.slice(prefix.length);
    let text = '';
    for await (const chunk of req) text += chunk;
    backend.requests.push(`${req.method} ${path}`);
    const behaviour = backend.script.shift();
    if (behaviour === 'hang') return true;
    if (behaviour) return void res.writeHead(behaviour).end(), true;
    if (req.method == 'POST' && path == '/subscriptions') {
      const body = JSON.parse(text) as { subscription: { endpoint: string } };
      backend.bodies.push(body);
      const known = [...backend.stored].find(([, b]) => b.subscription.endpoint == body.subscription.endpoint)?.[0];
      const id = known ?? `s${next++}`;
      backend.stored.set(id, body);
      res.writeHead(known ? 200 : 201, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
      return true;
    }
    const id = /^\/subscriptions\/([^/]+)$/.exec(path)?.[1];
    if (req.method == 'DELETE' && id) {
      res.writeHead(backend.stored.delete(decodeURIComponent(id)) ? 204 : 404).end();
      return true;
    }
    res.writeHead(404).end();
    return true;
  });
  return backend;
}
