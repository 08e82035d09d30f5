import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { requireOptional } from '../server/common/requireOptional.js';
import type { SubscriptionJSON, Urgency } from '../shared/protocol.js';
import { fromP256Key, toBase64Url } from '../shared/base64url.js';
import { TidingsError } from '../shared/TidingsError.js';
import { decrypt } from '../shared/aes128gcm.js';
import { acceptPushMessage, error, type PushAnswer } from './acceptPushMessage.js';
import { createCertificate } from './createCertificate.js';
import { serveMozillaProtocol } from './mozillaProtocol.js';
import { liveMessages, type Channel, type PushState, type QueuedMessage } from './pushState.js';

export interface PushServiceOptions {
  /** @default 0 (any free port). The service listens on 127.0.0.1 only. */
  port?: number;
  /**
   * Serve https/wss with a certificate made at start (its CA is `ca`), speaking HTTP/2 to
   * clients that offer it (ALPN `h2`, as autopush does) and HTTP/1.1 to the others.
   * @default false (plain http, HTTP/1.1)
   */
  tls?: boolean;
  /** Clock for TTL and VAPID expiry, ms since the epoch; tests pass a fake one. @default Date.now */
  now?: () => number;
}

/** A raw message as the push service holds it, before any user agent decrypts it. */
export interface RawPushMessage {
  id: string;
  body: Uint8Array;
  encoding: string | undefined;
  ttl: number;
  urgency: Urgency;
  topic: string | undefined;
  receivedAt: number;
  /** The HTTP version it was pushed over: `1.1` or `2.0`. */
  httpVersion: string;
}

export interface PushService {
  /** Base of the RFC 8030 endpoints, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Mozilla's WebSocket push protocol on the same port, for Firefox's `dom.push.serverURL`. */
  webSocketUrl: string;
  /** The Firefox prefs that point a profile here (set them before launch). */
  firefoxPrefs(): Record<string, string | number | boolean>;
  /** PEM of the CA that signed the service's certificate, when `tls` is on. */
  ca?: string;
  /** A headless subscriber: keys made here, messages queued until `received()`. */
  subscribe(applicationServerKey?: string): Promise<SubscriptionJSON>;
  /** Drains a headless subscriber's queue and decrypts it as a browser would. */
  received(endpoint: string): Promise<string[]>;
  /** The encrypted messages queued for an endpoint now, without draining them. */
  messages(endpoint: string): RawPushMessage[];
  /** Ends a subscription: later sends get 410. */
  expire(endpoint: string): void;
  /**
   * Forgets every browser that spoke the WebSocket protocol, as a push service that resets
   * uaids does: their subscriptions end (later sends get 410, held messages are dropped),
   * connected sockets close, and a browser gets a new uaid at its next hello. Firefox then
   * drops its subscriptions and fires `pushsubscriptionchange`: this is how to test that
   * event for real. Answers how many browsers were forgotten.
   */
  resetUserAgents(): number;
  close(): Promise<void>;
}

/**
 * Starts a local push service: RFC 8030 endpoints with VAPID checks, Mozilla's
 * WebSocket protocol for real Firefox, and headless subscribers for server tests.
 */
export async function startPushService(options: PushServiceOptions = {}): Promise<PushService> {
  // Firefox's WebSocket protocol needs ws: loaded here so that only this helper needs it.
  const { WebSocketServer } = requireOptional<typeof import('ws')>('ws', '8');
  const certificate = options.tls ? createCertificate() : undefined;
  const state: PushState = {
    origin: '',
    channels: new Map(),
    byEndpoint: new Map(),
    now: options.now ?? Date.now,
    verified: new Map(),
    deliver: () => false,
  };

  const onRequest = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse): void => {
    route(request)
      .catch(() => error(500, 999, 'Internal Server Error', 'push service error'))
      .then((answer) => {
        response.writeHead(answer.status, answer.headers);
        if (answer.body) response.end(JSON.stringify(answer.body));
        else response.end();
      });
  };
  const route = async (request: IncomingMessage | Http2ServerRequest): Promise<PushAnswer> => {
    const path = (request.url ?? '/').split('?')[0]!;
    const push = /^\/wpush\/v[12]\/([A-Za-z0-9_-]+)$/.exec(path);
    if (push) {
      if (request.method !== 'POST') return error(405, 999, 'Method Not Allowed', 'POST a message here');
      return acceptPushMessage(state, push[1]!, request);
    }
    const cancel = /^\/m\/([A-Za-z0-9_-]+)$/.exec(path);
    if (cancel && request.method === 'DELETE') {
      // autopush's extension: the application server cancels an undelivered message.
      for (const channel of state.channels.values()) {
        const before = channel.queue.length;
        channel.queue = channel.queue.filter((message) => message.id !== cancel[1]);
        if (channel.queue.length < before) return { status: 204, headers: {} };
      }
    }
    return error(404, 102, 'Not Found', 'No such resource');
  };

  const server: Server | Http2SecureServer = certificate
    ? createSecureServer({ cert: certificate.cert, key: certificate.key, allowHTTP1: true }, onRequest)
    : createHttpServer(onRequest);
  // Every connection, HTTP/1.1 and HTTP/2 alike, so close() can end them all.
  const connections = new Set<Socket>();
  server.on(certificate ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const sockets = new WebSocketServer({
    // An HTTP/2 server with allowHTTP1 emits the HTTP/1.1 upgrades as node:http's does.
    server: server as Server,
    handleProtocols: (protocols) => (protocols.has('push-notification') ? 'push-notification' : false),
  });
  // ws repeats the HTTP server's errors (a port in use) on itself, where nobody would hear
  // them and the process would end: they are the server's, handled below.
  sockets.on('error', () => {});

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (cause) {
    throw new TidingsError('push-service', { reason: (cause as Error).message, cause });
  }
  const { port } = server.address() as AddressInfo;
  const scheme = certificate ? 'https' : 'http';
  state.origin = `${scheme}://127.0.0.1:${port}`;
  const webSocketUrl = `${certificate ? 'wss' : 'ws'}://127.0.0.1:${port}/`;
  const endpointFor = (token: string, keyed: boolean): string => `${state.origin}/wpush/${keyed ? 'v2' : 'v1'}/${token}`;
  const mozilla = serveMozillaProtocol(state, sockets, endpointFor);
  state.deliver = mozilla.deliver;

  const channelOf = (endpoint: string): Channel => {
    const channel = state.byEndpoint.get(endpoint);
    if (!channel) throw new TidingsError('push-service', { reason: `unknown endpoint ${endpoint}` });
    return channel;
  };

  const service: PushService = {
    url: state.origin,
    webSocketUrl,
    firefoxPrefs: () => ({
      'dom.push.serverURL': webSocketUrl,
      'dom.push.testing.allowInsecureServerURL': true,
      'dom.push.connection.enabled': true,
      'dom.push.enabled': true,
      'dom.serviceWorkers.testing.enabled': true,
      'dom.push.testing.ignorePermission': true,
      'permissions.default.desktop-notification': 1,
      // Without it showNotification fails in headless Firefox.
      'alerts.useSystemBackend': false,
      // A local service restarts, or resets its user agents, often: reconnect after half a
      // second (doubling on failures) instead of Firefox's 5 s.
      'dom.push.retryBaseInterval': 500,
    }),
    async subscribe(applicationServerKey) {
      let key: string | undefined;
      if (applicationServerKey !== undefined) {
        const raw = fromP256Key(applicationServerKey);
        if (!raw) {
          throw new TidingsError('invalid-option', { option: 'applicationServerKey', reason: 'must be a 65-byte P-256 key' });
        }
        key = toBase64Url(raw);
      }
      // The same WebCrypto opener the worker uses decrypts what a headless subscriber gets.
      const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
      const headless = {
        privateKey: pair.privateKey,
        publicKey: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)),
        auth: new Uint8Array(randomBytes(16)),
      };
      const token = randomBytes(24).toString('base64url');
      const channel: Channel = { token, endpoint: endpointFor(token, key !== undefined), applicationServerKey: key, gone: false, queue: [], headless };
      state.channels.set(token, channel);
      state.byEndpoint.set(channel.endpoint, channel);
      return {
        endpoint: channel.endpoint,
        expirationTime: null,
        keys: { p256dh: toBase64Url(headless.publicKey), auth: toBase64Url(headless.auth) },
      };
    },
    async received(endpoint) {
      const channel = channelOf(endpoint);
      const { headless } = channel;
      if (!headless) throw new TidingsError('push-service', { reason: 'not a headless subscriber: a browser receives it' });
      const queued = liveMessages(state, channel);
      channel.queue = [];
      const text = new TextDecoder();
      return Promise.all(
        queued.map(async (message) => (message.body.length === 0 ? '' : text.decode(await decrypt(new Uint8Array(message.body), headless)))),
      );
    },
    messages(endpoint) {
      return liveMessages(state, channelOf(endpoint)).map(raw);
    },
    expire(endpoint) {
      const channel = channelOf(endpoint);
      channel.gone = true;
      channel.queue = [];
    },
    resetUserAgents: () => mozilla.reset(),
    async close() {
      for (const socket of sockets.clients) socket.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  if (certificate) service.ca = certificate.ca;
  return service;
}

function raw(message: QueuedMessage): RawPushMessage {
  const { id, body, encoding, ttl, urgency, topic, receivedAt, httpVersion } = message;
  return { id, body: new Uint8Array(body), encoding, ttl, urgency, topic, receivedAt, httpVersion };
}
