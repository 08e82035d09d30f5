import { createServer, type Server } from 'node:http';
import type { MetricsRegistry } from '../server/index.js';

export interface MetricsServer {
  /** `http://HOST:PORT/metrics`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a registry's text format at `GET /metrics` (and HEAD) on `host:port`, for
 * Prometheus to scrape; every other path is 404, every other method 405. Bound to
 * loopback unless told otherwise (`--metrics-host`): push-service hosts and queue names
 * are not for the internet. A scrape that fails is a 500, and its error goes to `onError`.
 */
export async function serveMetrics(registry: MetricsRegistry, port: number, host: string, onError: (error: unknown) => void): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        onError(error);
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('the metrics could not be read\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as { port: number };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
