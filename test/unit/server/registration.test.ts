import { createECDH } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServer, type PushServerOptions, type SubscriptionStore } from '../../../src/server/index.js';
import { toBase64Url } from '../../../src/shared/base64url.js';
import { storeKinds } from '../../support/storeKinds.js';

// Registration through the public handler, on every store: who owns an endpoint when two
// browsers race for it, what a re-registration keeps, and what identify may answer.

const base = 'https://site.example/api/push';
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const newKeys = () => ({ p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(crypto.getRandomValues(new Uint8Array(16))) });
const endpointOf = (n: number | string) => `https://fcm.googleapis.com/fcm/send/visitor-${n}`;

/** Reads the session cookie `sid=<user>`; no cookie is an anonymous visitor. */
const identifyByCookie = (request: Request) => {
  const sid = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
  return sid === undefined ? undefined : { user: sid };
};

function post(server: PushServer, body: unknown, user?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (user !== undefined) headers.cookie = `sid=${user}`;
  return server.handler(new Request(`${base}/subscriptions`, { method: 'POST', headers, body: JSON.stringify(body) }));
}

describe.each(await storeKinds())('%s', (_name, create) => {
  let store: SubscriptionStore;
  let push: PushServer;
  const serve = (options: Partial<PushServerOptions> = {}) => {
    push = createPushServer({ vapid, store, identify: identifyByCookie, clientAttributes: ['lang', 'sports', 'user'], ...options });
  };
  beforeEach(() => {
    store = create();
    serve({ clientAttributes: ['lang', 'sports'] });
  });
  afterEach(() => store.close());

  it('never lets two racing registrations of one new endpoint both succeed for different owners (100 races)', async () => {
    let conflicts = 0;
    for (let trial = 0; trial < 100; trial++) {
      const endpoint = endpointOf(`race-${trial}`);
      const racers = [
        { user: `alice-${trial}`, keys: newKeys() },
        { user: `mallory-${trial}`, keys: newKeys() },
      ];
      const answers = await Promise.all(racers.map(({ user, keys }) => post(push, { subscription: { endpoint, expirationTime: null, keys } }, user)));
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 201 || status === 200), `trial ${trial}: ${statuses}`).toHaveLength(1);
      expect(statuses).toContain(409);
      conflicts++;
      const winner = racers[statuses.indexOf(201)]!;
      const stored = await store.getSubscriptionByEndpoint(endpoint);
      // The row is the winner's: its keys and its owner, never one's keys with the other's name.
      expect(stored?.subscription.keys).toEqual(winner.keys);
      expect(stored?.attributes).toEqual({ user: winner.user });
      const winnerAnswer = (await answers[statuses.indexOf(201)]!.json()) as { id: string };
      expect(winnerAnswer.id).toBe(stored?.id);
    }
    expect(conflicts).toBe(100);
  }, 60_000); // 200 registrations, each a transaction on PostgreSQL: well under a second idle, more under load

  describe('what a re-registration keeps (client-chosen, identity, server-set)', () => {
    const keys = newKeys();
    const subscription = { endpoint: endpointOf('reload'), expirationTime: null, keys };
    const stored = async () => (await store.getSubscriptionByEndpoint(subscription.endpoint))?.attributes;

    it('keeps the visitor\'s chosen attributes when a registration carries none (a reload)', async () => {
      expect((await post(push, { subscription, attributes: { sports: true, lang: 'fr' } }, 'alice')).status).toBe(201);
      expect((await post(push, { subscription }, 'alice')).status).toBe(200);
      expect((await post(push, { subscription }, 'alice')).status).toBe(200);
      expect(await stored()).toEqual({ sports: true, lang: 'fr', user: 'alice' });
      expect(await push.count({ attributes: { sports: true } })).toBe(1);
    });

    it('replaces them when it carries some, and clears them with {}', async () => {
      await post(push, { subscription, attributes: { sports: true, lang: 'fr' } }, 'alice');
      await post(push, { subscription, attributes: { lang: 'de' } }, 'alice');
      expect(await stored()).toEqual({ lang: 'de', user: 'alice' });
      await post(push, { subscription, attributes: {} }, 'alice');
      expect(await stored()).toEqual({ user: 'alice' });
    });

    it('takes identity from identify on every request: logging out leaves no owner, another login another owner', async () => {
      await post(push, { subscription, attributes: { sports: true } }, 'alice');
      expect((await post(push, { subscription })).status).toBe(200);
      expect(await stored()).toEqual({ sports: true });
      expect((await post(push, { subscription }, 'bob')).status).toBe(200);
      expect(await stored()).toEqual({ sports: true, user: 'bob' });
      expect(await push.count({ attributes: { user: 'alice' } })).toBe(0);
    });

    it("keeps the server's own tags while the owner stays, and drops them with the owner", async () => {
      await post(push, { subscription }, 'alice');
      expect(await push.setAttributes({ attributes: { user: 'alice' } }, { plan: 'pro' })).toBe(1);
      await post(push, { subscription, attributes: { lang: 'en' } }, 'alice');
      expect(await stored()).toEqual({ lang: 'en', user: 'alice', plan: 'pro' });
      // Alice logs out, Bob logs in on the same browser: Alice's plan is not Bob's.
      await post(push, { subscription }, 'bob');
      expect(await stored()).toEqual({ lang: 'en', user: 'bob' });
    });

    it('keeps server tags on an anonymous subscription through anonymous re-registrations, not through a login', async () => {
      const { id } = (await (await post(push, { subscription })).json()) as { id: string };
      await push.setAttributes(id, { segment: 'beta' });
      await post(push, { subscription });
      expect(await stored()).toEqual({ segment: 'beta' });
      await post(push, { subscription }, 'carol');
      expect(await stored()).toEqual({ user: 'carol' });
    });

    it('lets identify win over a visitor key of the same name, and does not keep it as the visitor\'s after logout', async () => {
      serve({ clientAttributes: ['lang', 'user'] });
      await post(push, { subscription, attributes: { user: 'admin', lang: 'en' } }, 'mallory');
      expect(await stored()).toEqual({ user: 'mallory', lang: 'en' });
      await post(push, { subscription });
      expect(await stored()).toEqual({ lang: 'en' });
    });
  });

  it.each([1.5, 1e20, -1, 2 ** 53, Number.MAX_VALUE])('refuses expirationTime %d with a 400 naming the field, storing nothing', async (expirationTime) => {
    const response = await post(push, { subscription: { endpoint: endpointOf('expiry'), expirationTime, keys: newKeys() } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid-request', field: 'subscription.expirationTime' });
    expect(await store.findSubscriptions()).toHaveLength(0);
  });

  it('stores a whole-millisecond expirationTime as given', async () => {
    const expirationTime = Date.UTC(2999, 0, 1);
    expect((await post(push, { subscription: { endpoint: endpointOf('expiry'), expirationTime, keys: newKeys() } })).status).toBe(201);
    expect((await store.getSubscriptionByEndpoint(endpointOf('expiry')))?.subscription.expirationTime).toBe(expirationTime);
  });

  describe('a re-spelled endpoint is the same row', () => {
    const keys = newKeys();
    const endpoint = 'https://fcm.googleapis.com/fcm/send/victim';

    it.each([
      ['escaped letters', 'https://fcm.googleapis.com/fcm/send/%76ictim'],
      ['lower-case escapes of letters', 'https://fcm.googleapis.com/fcm/s%65nd/victim'],
      ['an upper-case host and the default port', 'https://FCM.googleapis.com:443/fcm/send/victim'],
      ['a dot segment', 'https://fcm.googleapis.com/fcm/./send/victim'],
      ['an empty query', 'https://fcm.googleapis.com/fcm/send/victim?'],
    ])('%s: another owner gets 409, the browser itself its id', async (_how, spelling) => {
      const { id } = (await (await post(push, { subscription: { endpoint, expirationTime: null, keys } }, 'victim')).json()) as { id: string };
      expect((await post(push, { subscription: { endpoint: spelling, expirationTime: null, keys: newKeys() } }, 'mallory')).status).toBe(409);
      const again = await post(push, { subscription: { endpoint: spelling, expirationTime: null, keys } }, 'victim');
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ id });
      expect(await store.findSubscriptions()).toHaveLength(1);
    });

    it.each([
      ['a fragment', `${endpoint}#x`, 'fragment'],
      ['an empty fragment', `${endpoint}#`, 'fragment'],
      ['a query FCM does not use', `${endpoint}?q`, 'query'],
      ['an empty path segment', 'https://fcm.googleapis.com/fcm//send/victim', 'empty-path-segment'],
    ])('refuses %s, which no push service hands out', async (_how, spelling, reason) => {
      await post(push, { subscription: { endpoint, expirationTime: null, keys } }, 'victim');
      const response = await post(push, { subscription: { endpoint: spelling, expirationTime: null, keys: newKeys() } }, 'mallory');
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ field: 'subscription.endpoint', reason });
      expect(await store.findSubscriptions()).toHaveLength(1);
    });
  });
});

describe('identify must answer attributes, null or undefined', () => {
  class Visitor {
    user = 'alice';
  }
  const hidden = Object.defineProperty({}, 'user', { value: 'alice', enumerable: false });
  const getter = { get user() { return 'alice'; } };

  it.each([
    ['a Map', () => new Map([['user', 'alice']])],
    ['a Date', () => new Date()],
    ['an array', () => ['alice']],
    ['an object that inherits its keys', () => Object.create({ user: 'alice' })],
    ['a class instance', () => new Visitor()],
    ['a hidden (non-enumerable) key', () => hidden],
    ['a getter', () => getter],
    ['a symbol key', () => ({ [Symbol('user')]: 'alice' })],
    ["a '__proto__' key", () => JSON.parse('{"__proto__": "alice"}')],
    ['a nested value', () => ({ user: { id: 'alice' } })],
    ['a string', () => 'alice'],
  ])('reports %s to onError and answers 500, storing nothing', async (_what, answer) => {
    const store = memoryStore();
    const onError = vi.fn();
    const push = createPushServer({ vapid, store, onError, identify: answer as never });
    const response = await post(push, { subscription: { endpoint: endpointOf('identify'), expirationTime: null, keys: newKeys() } });
    expect(response.status).toBe(500);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'identify' }) }));
    expect(await store.findSubscriptions()).toHaveLength(0);
  });
});
