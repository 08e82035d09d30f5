import { createECDH } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPushWorker } from '../../../src/worker/createPushWorker.js';
import { openTidingsDB, setValue } from '../../../src/worker/db.js';
import { createPushServer, generateVapidKeys, memoryStore, type PushServer, type SubscriptionStore } from '../../../src/server/index.js';
import { toBase64Url } from '../../../src/shared/base64url.js';
import { dispatch, FakePushEvent, installScope, type FakeScope } from './support/fakeScope.js';

// The worker signs its events requests with WebCrypto (Node's, real), and the backend's
// own verification (node:crypto) is what judges them: the two halves must agree byte for byte.
const backend = 'https://site.example/api/push';
const endpoint = 'https://fcm.googleapis.com/fcm/send/worker-1';
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let s: FakeScope;
let store: SubscriptionStore;
let push: PushServer;
let auth: Uint8Array;
let backendId: string;
let answer: number | undefined;

/** The browser's sync state, as backendSync writes it once the backend registered the subscription. */
async function registered(at: string, id: string) {
  const db = await openTidingsDB();
  await setValue(db, 'sync', { endpoint: at, backendId: id, vapidPublicKey: vapid.publicKey, expirationTime: null, syncedAt: Date.now() });
  db.close();
}
const posts = () => s.requests.filter((r) => r.url === `${backend}/events`);
const outbox = async () => {
  const db = await openTidingsDB();
  const entries = await db.getAll('outbox');
  db.close();
  return entries;
};

beforeEach(async () => {
  store = memoryStore();
  push = createPushServer({ vapid, store, pushServices: 'any' });
  auth = crypto.getRandomValues(new Uint8Array(16));
  ({ id: backendId } = await store.saveSubscription({ subscription: { endpoint, keys: { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(auth) } } }));
  await store.createSend({ id: 'm1', envelope: { v: 1, id: 'm1' }, audience: null, options: {}, via: 'send', state: 'done', createdAt: Date.now(), targeted: 1, sent: 1, gone: 0, failed: 0, pruned: 0, capped: 0, deferred: 0, failures: [] });
  answer = undefined;
  // The worker's POSTs go to the real handler (unless a test answers for it).
  s = installScope({
    subscription: { endpoint, auth },
    routes: [(request) => (request.url === `${backend}/events` ? (answer ? new Response(null, { status: answer }) : push.handler(request)) : undefined)],
  });
});

describe('signed events', () => {
  it("signs with the key of its subscription's auth secret, names its backend id, and the backend counts them", async () => {
    await registered(endpoint, backendId);
    await dispatch(createPushWorker({ backend }).handlePush, new FakePushEvent({ v: 1, id: 'm1', notification: { title: 'Hi' } }));
    const [post] = posts();
    expect(post!.headers['tidings-signature']).toMatch(/^v1=[A-Za-z0-9_-]{43}$/);
    expect(post!.body).toEqual({ subscription: backendId, events: [expect.objectContaining({ type: 'delivered' }), expect.objectContaining({ type: 'shown' })] });
    expect(await push.stats.message('m1')).toMatchObject({ delivered: 1, shown: 1, unverified: { delivered: 0, shown: 0 } });
    expect(await outbox()).toEqual([]);
  });

  it('sends unsigned, without a subscription id, when the subscription is not the one registered (or there is none)', async () => {
    await registered('https://fcm.googleapis.com/fcm/send/an-older-one', backendId);
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'm1', notification: { title: 'Hi' } }));
    s = installScope({ routes: [(request) => (request.url === `${backend}/events` ? push.handler(request) : undefined)] });
    await registered(endpoint, backendId);
    await dispatch(createPushWorker({ backend }).handlePush, new FakePushEvent({ v: 1, id: 'm1', notification: { title: 'Again' } }));
    for (const post of s.requests) {
      expect(post.headers['tidings-signature']).toBeUndefined();
      expect(Object.keys(post.body)).toEqual(['events']);
    }
    expect(await push.stats.message('m1')).toMatchObject({ delivered: 0, shown: 0, unverified: { delivered: 2, shown: 2 } });
  });

  it('sends unsigned before it was ever registered', async () => {
    await dispatch(createPushWorker({ backend }).handlePush, new FakePushEvent({ v: 1, id: 'm1', notification: { title: 'Hi' } }));
    expect(posts()[0]!.headers['tidings-signature']).toBeUndefined();
    expect(await push.stats.message('m1')).toMatchObject({ shown: 0, unverified: { shown: 1 } });
  });

  it('drops a batch the backend refuses for good (a 4xx), keeps one that met a 5xx, 408, 429 or no answer', async () => {
    await registered(endpoint, 'someone-else');
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'm1', notification: { title: 'Forged id' } }));
    // The backend refused the signature (403): sent once, then gone from the outbox.
    expect(posts()).toHaveLength(1);
    expect(await outbox()).toEqual([]);
    expect(await push.stats.message('m1')).toMatchObject({ shown: 0, unverified: { shown: 0 } });
    for (const status of [503, 408, 429]) {
      answer = status;
      await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: `k${status}`, notification: { title: 'Kept' } }));
      expect((await outbox()).length, String(status)).toBeGreaterThan(0);
    }
    s.routes.unshift((r) => (r.url.endsWith('/events') ? Promise.reject(new TypeError('offline')) : undefined));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'offline', notification: { title: 'Kept' } }));
    expect(await outbox()).toHaveLength(8);
    s.routes.shift();
    answer = 400;
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'bad', notification: { title: 'Refused' } }));
    expect(await outbox()).toEqual([]);
  });
});
