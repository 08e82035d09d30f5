import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';

const root = resolve(import.meta.dirname, '../../..');
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

/** A route the test adds in front of the static files; return true when it answered. */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface StaticServer {
  origin: string;
  /** Every request the server saw, in order: method and path. */
  requests: { method: string; path: string }[];
  route(route: Route): void;
  close(): Promise<void>;
}

/**
 * Serves the built bundles from `dist/` at `/` and the test pages from `dirs` (relative to
 * the repository), on 127.0.0.1 with a free port. Loopback is a secure context, so service
 * workers and push work without TLS.
 */
export async function startStaticServer(dirs: string[] = ['test/e2e/fixtures']): Promise<StaticServer> {
  const routes: Route[] = [];
  const requests: StaticServer['requests'] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search });
    try {
      for (const route of routes) if (await route(req, res, url)) return;
      const path = url.pathname === '/' ? '/index.html' : url.pathname;
      for (const dir of ['dist', ...dirs]) {
        const base = join(root, dir);
        const file = normalize(join(base, decodeURIComponent(path)));
        if (!file.startsWith(base)) break;
        const body = await readFile(file).catch(() => null);
        if (body) {
          res.writeHead(200, {
            'content-type': types[extname(file)] ?? 'application/octet-stream',
            'cache-control': 'no-store',
            'service-worker-allowed': '/',
          });
          res.end(body);
          return;
        }
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    route: (route) => void routes.push(route),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
