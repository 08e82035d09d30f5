import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the backend does with the next request: answer normally, answer a status, hang, or send text that is not JSON. */
export type Behaviour = 'ok' | 'hang' | 'non-json' | number;

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  headers: IncomingMessage['headers'];
}

export interface TestBackend {
  /** Base URL of the contract, e.g. `http://127.0.0.1:1234/api/push`. */
  url: string;
  /** POST and DELETE requests, in order (CORS preflights are left out). */
  requests: RecordedRequest[];
  /** Subscriptions it holds, by id. */
  stored: Map<string, unknown>;
  /** Behaviours for the next requests, taken one per request; empty means 'ok'. */
  script: Behaviour[];
  close(): Promise<void>;
}

/**
 * A real HTTP backend keeping the tidings contract (POST /subscriptions idempotent on the
 * endpoint, DELETE /subscriptions/{id} 204 or 404), with CORS so happy-dom's fetch, whose
 * page is on another origin, may read it.
 */
export async function startTestBackend(): Promise<TestBackend> {
  const requests: RecordedRequest[] = [];
  const stored = new Map<string, unknown>();
  const script: Behaviour[] = [];
  const hanging: ServerResponse[] = [];
  let next = 1;
  const server = createServer(async (req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-methods', 'POST, DELETE');
    res.setHeader('access-control-allow-headers', '*');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    let text = '';
    for await (const chunk of req) text += chunk;
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/api\/push/, '');
    requests.push({ method: req.method ?? '', path, body: text ? JSON.parse(text) : undefined, headers: req.headers });
    const behaviour = script.shift() ?? 'ok';
    if (behaviour === 'hang') return void hanging.push(res);
    if (typeof behaviour === 'number') return void res.writeHead(behaviour).end();
    if (behaviour === 'non-json') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hi</h1>');
    if (req.method === 'POST' && path === '/subscriptions') {
      const endpoint = (JSON.parse(text) as { subscription: { endpoint: string } }).subscription.endpoint;
      const known = [...stored].find(([, body]) => (body as { subscription: { endpoint: string } }).subscription.endpoint === endpoint);
      const id = known?.[0] ?? `s${next++}`;
      stored.set(id, JSON.parse(text));
      return void res.writeHead(known ? 200 : 201, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
    }
    const match = /^\/subscriptions\/([^/]+)$/.exec(path);
    if (req.method === 'DELETE' && match) {
      const id = decodeURIComponent(match[1]!);
      return void res.writeHead(stored.delete(id) ? 204 : 404).end();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/push`,
    requests,
    stored,
    script,
    close: () =>
      new Promise<void>((done) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
