import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore } from '../../src/server/index.js';
import type { SubscriptionJSON } from '../../src/shared/protocol.js';

// web-push-testing (npm) is a push service written elsewhere: it checks VAPID and decrypts.
// Its CLI listens on every interface at a fixed port, so the test runs its express app
// in process on 127.0.0.1, port 0, and tells its model the endpoint base.
const require = createRequire(import.meta.url);
interface PushApiModel {
  notifyUrl: string;
}
interface TestingServer {
  _app: Parameters<typeof createServer>[1];
  setRequestHandlers(): void;
}
const { PushApiModel } = require('web-push-testing/src/PushApiModel.js') as { PushApiModel: new () => PushApiModel };
const WebPushTestingServer = require('web-push-testing/src/server.js') as new (model: PushApiModel, port: number) => TestingServer;

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let http: Server;
let base: string;

beforeAll(async () => {
  const model = new PushApiModel();
  const testing = new WebPushTestingServer(model, 0);
  testing.setRequestHandlers();
  http = createServer(testing._app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  model.notifyUrl = `${base}/notify/`;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

async function call<T>(path: string, body: object): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as T };
}

async function subscribe(applicationServerKey: string): Promise<SubscriptionJSON & { clientHash: string }> {
  const { body } = await call<{ data: SubscriptionJSON & { clientHash: string } }>('/subscribe', { userVisibleOnly: 'true', applicationServerKey });
  return body.data;
}

describe('send() against web-push-testing', () => {
  it('delivers a message web-push-testing verifies and decrypts', async () => {
    const store = memoryStore();
    const server = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
    const { clientHash, ...subscription } = await subscribe(vapid.publicKey);
    await store.saveSubscription({ subscription });
    const result = await server.send({ v: 1, id: 'interop', notification: { title: 'From tidings' } });
    expect(result).toMatchObject({ sent: 1, failed: 0 });
    const { body } = await call<{ data: { messages: string[] } }>('/get-notifications', { clientHash });
    // The id is the caller's, so the push says it may repeat one sent before (markRetry).
    expect(body.data.messages.map((text) => JSON.parse(text))).toEqual([{ v: 1, id: 'interop', notification: { title: 'From tidings' }, retry: true }]);
  });

  it('is refused (not pruned) when the subscription is restricted to another key', async () => {
    const store = memoryStore();
    const server = createPushServer({ vapid, store, retries: 0, allowLoopbackEndpoints: true });
    const { clientHash: _hash, ...subscription } = await subscribe(generateVapidKeys().publicKey);
    const { id } = await store.saveSubscription({ subscription });
    const result = await server.send({ v: 1 });
    expect(result).toMatchObject({ sent: 0, failed: 1, errors: [{ status: 400 }] });
    expect(await store.getSubscription(id)).toBeDefined();
  });

  it('prunes a subscription web-push-testing expired (410)', async () => {
    const store = memoryStore();
    const server = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
    const { clientHash, ...subscription } = await subscribe(vapid.publicKey);
    const { id } = await store.saveSubscription({ subscription });
    await call(`/expire-subscription/${clientHash}`, {});
    expect(await server.send({ v: 1 })).toMatchObject({ gone: 1 });
    expect(await store.getSubscription(id)).toBeUndefined();
  });
});
