import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { createECDH, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, toNodeHandler, type SubscriptionStore } from '../../../src/server/index.js';
import { isTidingsError } from '../../../src/shared/TidingsError.js';
import { createBackendSync } from '../../../src/worker/backendSync.js';
import { storedSync as kept } from '../client/support/storedSync.js';

// A site takes a key out of `clientAttributes` while browsers still keep it. The next
// registration those browsers must make (pushsubscriptionchange, a new VAPID key) carries
// the key, and the backend answers 400 naming it. Before, that registration was dropped,
// and the visitor with it, until the site allowed the key again. Here the backend is the
// real tidings handler on loopback, and its rules change between two registrations.

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const subscription = (n: number) => ({
  endpoint: `https://push.example.net/wpush/v2/${n}`,
  expirationTime: null,
  keys: { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: randomBytes(16).toString('base64url') },
});

let store: SubscriptionStore;
let server: Server;
let url: string;
/** The site's current config: the handler is rebuilt on each call, over the same store. */
let allowed: string[];

beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory();
  store = memoryStore();
  allowed = ['lang', 'plan', 'team'];
  server = createServer((req, res) =>
    toNodeHandler(createPushServer({ vapid, store, clientAttributes: allowed, pushServices: ['push.example.net'] }).handler)(req, res),
  );
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/push`;
});
afterEach(() => new Promise<void>((closed) => server.close(() => closed())));


describe('a kept attribute the backend no longer allows', () => {
  it('is dropped from a pushsubscriptionchange re-registration, which then lands with the others', async () => {
    const sync = createBackendSync({ backend: url });
    await sync.register({ subscription: subscription(1), vapidPublicKey: 'k1', attributes: { lang: 'en', plan: 'pro' } });
    allowed = ['lang'];

    const next = subscription(2);
    const state = await createBackendSync({ backend: url, background: true }).resubscribe(next);

    expect(state).toMatchObject({ endpoint: next.endpoint, attributes: { lang: 'en' } });
    expect(state!.attributes).not.toHaveProperty('plan');
    const rows = await store.findSubscriptions();
    expect(rows.map((row) => [row.subscription.endpoint, row.attributes])).toEqual([[next.endpoint, { lang: 'en' }]]);
    expect(await kept()).toMatchObject({ pending: undefined, sync: { attributes: { lang: 'en' } } });
  });

  it('drops each refused kept key once, however many there are', async () => {
    const sync = createBackendSync({ backend: url });
    await sync.register({ subscription: subscription(1), vapidPublicKey: 'k1', attributes: { lang: 'en', plan: 'pro', team: 'a' } });
    allowed = ['team'];

    const state = await sync.register({ subscription: subscription(2), vapidPublicKey: 'k2' });

    expect(state?.attributes).toEqual({ team: 'a' });
    expect((await store.findSubscriptions()).map((row) => row.attributes)).toEqual([{ team: 'a' }]);
  });

  it('is not dropped when this call gives it again: the page that sets a refused key hears why', async () => {
    const sync = createBackendSync({ backend: url });
    const first = subscription(1);
    await sync.register({ subscription: first, vapidPublicKey: 'k1', attributes: { lang: 'en', plan: 'pro' } });
    allowed = ['lang'];

    const error = await sync.register({ subscription: first, vapidPublicKey: 'k1', attributes: { plan: 'team' } }).catch((e: unknown) => e);

    expect(isTidingsError(error, 'backend-failed')).toBe(true);
    expect(error).toMatchObject({ details: { status: 400, field: 'attributes.plan' } });
    expect(error).toHaveProperty('message', 'backend-failed attributes.plan 400');
    // The first registration stands; nothing half-done is queued.
    expect((await store.findSubscriptions()).map((row) => row.attributes)).toEqual([{ lang: 'en', plan: 'pro' }]);
    expect((await kept()).pending).toBeUndefined();
  });

  it('leaves every other 400 as it was: reported, and the registration dropped', async () => {
    const sync = createBackendSync({ backend: url });
    const broken = { ...subscription(3), keys: { p256dh: 'not-a-key', auth: 'x' } };

    const error = await sync.register({ subscription: broken, vapidPublicKey: 'k1', attributes: { plan: 'pro' } }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'backend-failed', details: { status: 400, field: expect.stringMatching(/^subscription\.keys/) } });
    expect(await kept()).toEqual({ sync: undefined, pending: undefined });
  });
});

describe('a hostile or broken backend answering 400', () => {
  const answering = async (answer: (n: number) => { status: number; body: string }) => {
    await new Promise<void>((closed) => server.close(() => closed()));
    let n = 0;
    const requests: unknown[] = [];
    server = createServer(async (req, res) => {
      let text = '';
      for await (const chunk of req) text += chunk;
      if (req.method === 'POST') requests.push(JSON.parse(text));
      // The first registration is accepted, a DELETE of it too; then the scripted answers.
      if (req.method === 'DELETE') return void res.writeHead(204).end();
      if (n++ === 0) return void res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"s1"}');
      const { status, body } = answer(n);
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await createBackendSync({ backend: url }).register({ subscription: subscription(1), vapidPublicKey: 'k1', attributes: { lang: 'en', plan: 'pro' } });
    return requests;
  };

  it('that names a kept key again and again gets one retry per kept key, then the 400', async () => {
    const requests = await answering(() => ({ status: 400, body: '{"field":"attributes.plan"}' }));
    const error = await createBackendSync({ backend: url }).resubscribe(subscription(2)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'backend-failed', details: { status: 400, field: 'attributes.plan' } });
    // The first registration, the refused one, and the one without plan: no loop.
    expect(requests).toHaveLength(3);
    expect((requests[2] as { attributes: object }).attributes).toEqual({ lang: 'en' });
  });

  it('whose 400 is not JSON, or names a field that is not a string, is reported as before', async () => {
    for (const body of ['<h1>Bad Request</h1>', '{"field":{"toString":1}}', '{"field":["attributes.plan"]}', 'null']) {
      globalThis.indexedDB = new IDBFactory();
      const requests = await answering(() => ({ status: 400, body }));
      const error = await createBackendSync({ backend: url }).resubscribe(subscription(2)).catch((e: unknown) => e);
      expect(error, body).toMatchObject({ code: 'backend-failed', details: { status: 400 } });
      expect(requests, body).toHaveLength(2);
    }
  });
});
