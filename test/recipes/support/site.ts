import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { PushServer, StoredSubscription } from '../../../src/server/index.js';
import type { PushService } from '../../../src/testing/index.js';
import type { SubscriptionJSON, TidingsEvent } from '../../../src/shared/protocol.js';
import { importBuilt } from './tidings.js';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** The session cookie the recipe sites' `identify` hook reads, as a real site reads its login. */
export const SESSION = { name: 'session', value: 'alice' };

export interface Backend {
  /** http://127.0.0.1:port */
  origin: string;
  vapid: { publicKey: string; privateKey: string; subject: string };
  push: PushServer;
  pushService: PushService;
  /** Every request the server saw: method and path. */
  requests: string[];
  /** The subscriptions the backend stored. */
  subscriptions(): Promise<StoredSubscription[]>;
  /** Waits (at most `ms`) until the backend stored a `type` event for `messageId`. */
  untilEvent(messageId: string, type: TidingsEvent['type'], ms?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A site's backend on 127.0.0.1: the tidings handler (`createPushServer` + `memoryStore`
 * + `toNodeHandler`, identity from the session cookie) and, when `staticDir` is given,
 * the built site behind it, as a production server would serve both. Beside it, the
 * local push service that the subscriptions' endpoints point at.
 */
export async function startBackend(staticDir?: string): Promise<Backend> {
  const { server: tidings, testing } = await importBuilt();
  const pushService = await testing.startPushService();
  const vapid = { ...tidings.generateVapidKeys(), subject: 'mailto:recipes@example.com' };
  const store = tidings.memoryStore();
  const push = tidings.createPushServer({
    vapid,
    store,
    allowLoopbackEndpoints: true, // the local push service listens on loopback
    identify: (request) => {
      const session = new RegExp(`(?:^|; )${SESSION.name}=(\\w+)`).exec(request.headers.get('cookie') ?? '')?.[1];
      return session ? { user: session } : null; // no session: 401
    },
  });
  const handler = tidings.toNodeHandler(push.handler);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    // Paths outside /api/push fall through (next) to the site's files.
    void handler(req, res, () => void serveFile(staticDir, req, res));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const untilEvent = async (messageId: string, type: TidingsEvent['type'], ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await store.listEvents({ messageId, type })).length) {
      if (Date.now() > deadline) throw new Error(`no ${type} event for ${messageId} within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return {
    origin,
    vapid,
    push,
    pushService,
    requests,
    subscriptions: () => store.findSubscriptions(),
    untilEvent,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await pushService.close();
    },
  };
}

async function serveFile(dir: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const file = dir ? normalize(join(dir, path === '/' ? 'index.html' : decodeURIComponent(path))) : '';
  const body = dir && file.startsWith(dir) ? await readFile(file).catch(() => null) : null;
  if (!body) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
  res.end(body);
}

/**
 * Sends `title` through the backend to `subscriber` and hands what the push service
 * received to `deliver` (Chromium's DevTools push), as Chromium's own push service would:
 * the backend's real encryption, the subscriber's real decryption. Answers the message id.
 */
export async function sendThrough(
  backend: Backend,
  subscriber: SubscriptionJSON,
  title: string,
  deliver: (payload: string) => Promise<void>,
): Promise<string> {
  const result = await backend.push.send({ v: 1, notification: { title, body: 'Sent by the recipe test.' } }, { to: { attributes: { user: SESSION.value } } });
  if (result.sent !== 1) throw new Error(`send reached ${result.sent} subscriptions: ${JSON.stringify(result)}`);
  const payloads = await backend.pushService.received(subscriber.endpoint);
  if (payloads.length !== 1) throw new Error(`push service holds ${payloads.length} messages`);
  await deliver(payloads[0]!);
  return result.id;
}
