import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { createCertificate } from '../../src/testing/index.js';

/** The protocols send() speaks, for tests that must hold for both. */
export const protocols = ['HTTP/1.1', 'HTTP/2'] as const;
export type Protocol = (typeof protocols)[number];

/** One certificate for every HTTP/2 test host (127.0.0.1 and localhost); give `ca` to createPushServer. */
export const certificate = createCertificate();

export type Handler = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => void;

export interface PushHost {
  /** `http://127.0.0.1:PORT` for HTTP/1.1, `https://127.0.0.1:PORT` (h2 only, no HTTP/1.1) for HTTP/2. */
  origin: string;
  /** Connections (HTTP/2: sessions) accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A push service stand-in on loopback that answers with `handler` (node:http's
 * request/response, or node:http2's compatible ones): plain HTTP/1.1, or HTTP/2 over TLS
 * with no HTTP/1.1 to fall back to, so a test knows which one it exercised.
 */
export async function startPushHost(protocol: Protocol, handler: Handler, settings: { maxConcurrentStreams?: number } = {}): Promise<PushHost> {
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  let connections = 0;
  const server =
    protocol === 'HTTP/2'
      ? createSecureServer({ cert: certificate.cert, key: certificate.key, allowHTTP1: false, settings }, handler)
      : createServer(handler);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (protocol === 'HTTP/1.1') connections++;
  });
  server.on('session', (session: Http2Session) => {
    connections++;
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${protocol === 'HTTP/2' ? 'https' : 'http'}://127.0.0.1:${port}`,
    connections: () => connections,
    async close() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
