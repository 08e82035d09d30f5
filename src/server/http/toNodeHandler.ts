import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { RequestContext, RequestInfo } from './createHandler.js';
import { deeperThan } from './deeperThan.js';
import { isUnrouted } from './unrouted.js';

/** Nesting a body parsed by a framework may have: the contract's deepest is 3 (`subscription.keys.p256dh`). */
const MAX_BODY_DEPTH = 32;

export interface NodeHandlerOptions {
  /** Called with errors the adapter itself met (a body it could not read, a socket gone). @default console.error */
  onError?: (error: unknown) => void;
}

/** What Express and Connect add to the request: the URL before a mount path was stripped, and a parsed body. */
interface FrameworkRequest extends IncomingMessage {
  originalUrl?: string;
  body?: unknown;
}

/**
 * Mounts a Fetch-API handler on `node:http`, Express or Connect:
 * `http.createServer(toNodeHandler(push.handler))`, `app.use('/api/push', toNodeHandler(push.handler))`
 * or `app.use(toNodeHandler(push.handler))`. Under Express it reads the original URL (so
 * a mount path changes nothing), reuses a body `express.json()` already parsed, and
 * calls `next()` for paths outside the handler's `basePath`. `identify` gets `{ req, res }`
 * as its context: the framework's own request, with whatever its middleware added
 * (`req.session`). Deno, Bun and workers take the handler as it is.
 */
export function toNodeHandler(
  handler: (request: Request, info?: RequestInfo) => Promise<Response>,
  options: NodeHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void> {
  const serve = nodeAdapter(handler, options);
  return (req, res, next) => serve(req, res, next, { req, res });
}

/** toNodeHandler with the context `identify` gets left to the caller (toFastifyPlugin passes Fastify's objects). */
export function nodeAdapter(
  handler: (request: Request, info?: RequestInfo) => Promise<Response>,
  options: NodeHandlerOptions,
): (req: IncomingMessage, res: ServerResponse, next: ((error?: unknown) => void) | undefined, context: RequestContext) => Promise<void> {
  const onError = options.onError ?? ((error: unknown) => console.error('tidings:', error));
  return async (req: FrameworkRequest, res, next, context) => {
    try {
      const host = req.headers.host ?? 'localhost';
      let url: URL;
      try {
        // A Host with a path, userinfo or spaces in it would silently change the URL's meaning.
        if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) throw new TypeError('host');
        url = new URL(req.originalUrl ?? req.url ?? '/', `http://${host}`);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid-request', field: 'host' }));
        return;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
      }
      const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers };
      let tooDeep = false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        if (req.readableEnded && req.body !== undefined) {
          // A body parser ran first and drained the stream: hand on what it parsed. No body
          // of the contract nests deeper than a few levels; a deeper one is never turned back
          // into text (JSON.stringify would overflow the stack on it: a 500) but refused below.
          tooDeep = typeof req.body === 'object' && !Buffer.isBuffer(req.body) && deeperThan(req.body, MAX_BODY_DEPTH);
          init.body = tooDeep ? '' : typeof req.body === 'string' ? req.body : Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : JSON.stringify(req.body);
          headers.delete('content-length');
        } else {
          init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
          init.duplex = 'half';
        }
      }
      const info: RequestInfo = { context };
      if (req.socket.remoteAddress) info.clientAddress = req.socket.remoteAddress;
      const response = await handler(new Request(url, init), info);
      if (next && isUnrouted(response)) {
        next();
        return;
      }
      // Refused only now, so a path outside the handler still goes on to the app.
      if (tooDeep) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid-request', field: 'body', reason: 'too-deep' }));
        return;
      }
      res.statusCode = response.status;
      response.headers.forEach((value, name) => res.setHeader(name, value));
      if (!response.body) {
        res.end();
        return;
      }
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      onError(error);
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal' }));
    }
  };
}
