import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { RequestInfo } from './createHandler.js';

/**
 * Mounts a Fetch-API handler on `node:http` (or Express/Connect):
 * `http.createServer(toNodeHandler(server.handler))`. Deno, Bun and workers take the
 * handler as it is.
 */
export function toNodeHandler(
  handler: (request: Request, info?: RequestInfo) => Promise<Response>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    try {
      const host = req.headers.host ?? 'localhost';
      let url: URL;
      try {
        // A Host with a path, userinfo or spaces in it would silently change the URL's meaning.
        if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) throw new TypeError('host');
        url = new URL(req.url ?? '/', `http://${host}`);
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
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers };
      if (hasBody) {
        init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
        init.duplex = 'half';
      }
      const info: RequestInfo = {};
      if (req.socket.remoteAddress) info.clientAddress = req.socket.remoteAddress;
      const response = await handler(new Request(url, init), info);
      res.statusCode = response.status;
      response.headers.forEach((value, name) => res.setHeader(name, value));
      if (!response.body) {
        res.end();
        return;
      }
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch {
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    }
  };
}
