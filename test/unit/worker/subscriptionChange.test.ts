import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushWorker } from '../../../src/worker/createPushWorker.js';
import { getValue, openTidingsDB, setValue, type KeyValues } from '../../../src/worker/db.js';
import { fromBase64Url } from '../../../src/shared/base64url.js';
import { dispatch, eventsRoute, FakeEvent, FakePushEvent, installScope, type FakeScope } from './support/fakeScope.js';

const backend = 'https://site.example/api/push';
const vapid = 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';
let s: FakeScope;
let subscriptionsUp = true;
beforeEach(() => {
  subscriptionsUp = true;
  s = installScope({
    routes: [
      eventsRoute(),
      (request) => {
        if (!request.url.startsWith(`${backend}/subscriptions`)) return undefined;
        if (!subscriptionsUp) return new Response('down', { status: 503 });
        return request.method === 'POST'
          ? Response.json({ id: 'new-id' }, { status: 201 })
          : new Response(null, { status: 204 });
      },
    ],
    windows: [{ url: '/' }],
  });
});

async function store<K extends keyof KeyValues>(key: K, value: KeyValues[K]) {
  const db = await openTidingsDB();
  await setValue(db, key, value);
  db.close();
}
async function read<K extends keyof KeyValues>(key: K) {
  const db = await openTidingsDB();
  const value = await getValue(db, key);
  db.close();
  return value;
}
const registered = {
  endpoint: 'https://push.example/old',
  backendId: 'old-id',
  vapidPublicKey: vapid,
  attributes: { plan: 'pro' },
  sealKey: { p256dh: 'P', auth: 'A' },
  expirationTime: null,
  syncedAt: 1,
};
const fakeSubscription = (endpoint: string) => ({
  endpoint,
  toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: 'p2', auth: 'a2' } }),
});
const change = (newSubscription: unknown) => Object.assign(new FakeEvent(), { newSubscription, oldSubscription: null });
const sent = (method: string) => s.requests.filter((r) => r.method === method && r.url.includes('/subscriptions'));

describe('pushsubscriptionchange', () => {
  it('registers the new subscription with what the page registered, and deletes the old one', async () => {
    await store('sync', registered);
    const changed = vi.fn();
    const worker = createPushWorker({ backend }).use({ subscriptionDidChange: changed });
    await dispatch(worker.handleSubscriptionChange, change(fakeSubscription('https://push.example/new')));
    expect(sent('DELETE').map((r) => r.url)).toEqual([`${backend}/subscriptions/old-id`]);
    expect(sent('POST')[0]!.body).toEqual({
      subscription: { endpoint: 'https://push.example/new', expirationTime: null, keys: { p256dh: 'p2', auth: 'a2' } },
      attributes: { plan: 'pro' },
      sealKey: { p256dh: 'P', auth: 'A' },
    });
    expect(await read('sync')).toMatchObject({ endpoint: 'https://push.example/new', backendId: 'new-id' });
    expect(s.events().map((e) => e.type)).toEqual(['resubscribed']);
    expect(s.windows[0]!.messages).toEqual([{ source: 'tidings', kind: 'subscription-changed', endpoint: 'https://push.example/new' }]);
    expect(changed).toHaveBeenCalledWith(expect.objectContaining({ endpoint: 'https://push.example/new' }));
  });

  it('subscribes again with vapidPublicKey when the browser dropped the subscription', async () => {
    await store('sync', registered);
    await dispatch(createPushWorker({ backend, vapidPublicKey: vapid }).handleSubscriptionChange, change(null));
    expect(s.registration.pushManager.subscribe).toHaveBeenCalledWith({
      userVisibleOnly: true,
      applicationServerKey: fromBase64Url(vapid),
    });
    expect(sent('POST')[0]!.body.subscription.endpoint).toBe('https://push.example/new');
  });

  it('falls back to the key the page registered with when the option is missing', async () => {
    await store('sync', registered);
    await dispatch(createPushWorker({ backend }).handleSubscriptionChange, change(undefined));
    expect(s.registration.pushManager.subscribe).toHaveBeenCalledTimes(1);
    expect(sent('POST')).toHaveLength(1);
  });

  it('records failed when there is nothing to subscribe with', async () => {
    await dispatch(createPushWorker({ backend }).handleSubscriptionChange, change(null));
    expect(s.registration.pushManager.subscribe).not.toHaveBeenCalled();
    expect(s.events().map((e) => [e.type, e.reason])).toEqual([['failed', 'no-subscription']]);
  });

  it('records failed when subscribing again is refused', async () => {
    s.registration.pushManager.subscribe.mockRejectedValueOnce(new DOMException('denied', 'NotAllowedError'));
    await dispatch(createPushWorker({ backend, vapidPublicKey: vapid }).handleSubscriptionChange, change(null));
    expect(s.events().map((e) => e.type)).toEqual(['failed']);
  });

  it('leaves the registration queued when the backend is down, and sends it at the next push', async () => {
    await store('sync', registered);
    subscriptionsUp = false;
    const worker = createPushWorker({ backend, timeout: 1000 });
    await dispatch(worker.handleSubscriptionChange, change(fakeSubscription('https://push.example/new')));
    expect(await read('pending')).toMatchObject({ op: 'register', subscription: { endpoint: 'https://push.example/new' } });
    subscriptionsUp = true;
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, notification: { title: 'x' } }));
    expect(await read('pending')).toBeUndefined();
    expect(await read('sync')).toMatchObject({ endpoint: 'https://push.example/new', backendId: 'new-id' });
  }, 20_000);

  it('flushes a registration the page left queued at the next worker event', async () => {
    await store('pending', {
      op: 'register',
      subscription: { endpoint: 'https://push.example/page', expirationTime: null, keys: { p256dh: 'p', auth: 'a' } },
      vapidPublicKey: vapid,
      attempts: 1,
    });
    await dispatch(createPushWorker({ backend }).handlePush, new FakePushEvent('garbage'));
    expect(sent('POST')[0]!.body.subscription.endpoint).toBe('https://push.example/page');
    expect(await read('pending')).toBeUndefined();
  });

  it('sends no registration request on a push when nothing is queued', async () => {
    await store('sync', registered);
    await dispatch(createPushWorker({ backend }).handlePush, new FakePushEvent({ v: 1, notification: { title: 'x' } }));
    expect(sent('POST')).toEqual([]);
  });
});
