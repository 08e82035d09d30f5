import { createECDH } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, type PushServer, type SubscriptionStore } from '../../../src/server/index.js';
import { toBase64Url } from '../../../src/shared/base64url.js';
import { storeKinds } from '../../support/storeKinds.js';

// A shared computer, as the backend sees it: the page's logout() registers the browser
// anonymously (it proves its keys), login() registers it under whoever identify names;
// and the time zone and language every page records.

const base = 'https://site.example/api/push';
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const newKeys = () => ({ p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(crypto.getRandomValues(new Uint8Array(16))) });
const identifyByCookie = (request: Request) => {
  const sid = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
  return sid === 'nobody' ? null : sid === undefined ? undefined : { user: sid };
};

function post(server: PushServer, body: object, user?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (user !== undefined) headers.cookie = `sid=${user}`;
  return server.handler(new Request(`${base}/subscriptions`, { method: 'POST', headers, body: JSON.stringify(body) }));
}

describe.each(await storeKinds())('%s', (_name, create) => {
  let store: SubscriptionStore;
  let push: PushServer;
  beforeEach(() => {
    store = create();
    push = createPushServer({ vapid, store, identify: identifyByCookie, clientAttributes: ['topic'] });
  });
  afterEach(() => store.close());

  const subscription = { endpoint: 'https://fcm.googleapis.com/fcm/send/shared-pc', expirationTime: null, keys: newKeys() };

  it('detaches a logged-out browser from alice, whose session still lingers, and binds it to bob at his login', async () => {
    expect((await post(push, { subscription, attributes: { topic: 'news' } }, 'alice')).status).toBe(201);
    await push.setAttributes({ attributes: { user: 'alice' } }, { plan: 'pro' });
    expect(await push.count({ attributes: { user: 'alice' } })).toBe(1);
    // logout() runs before the site ends the session: the request still carries alice's cookie.
    expect((await post(push, { subscription, attributes: { topic: 'news' }, anonymous: true }, 'alice')).status).toBe(200);
    expect(await push.count({ attributes: { user: 'alice' } })).toBe(0);
    const stored = await store.getSubscriptionByEndpoint(subscription.endpoint);
    // What the visitor chose stays; alice's identity and the tags the server gave her go.
    expect(stored?.attributes).toEqual({ topic: 'news' });
    // An anonymous push still reaches the browser.
    expect(await push.count({ attributes: { topic: 'news' } })).toBe(1);
    // bob logs in on the same computer: login() registers again, identify names bob.
    expect((await post(push, { subscription, attributes: { topic: 'news' }, anonymous: false }, 'bob')).status).toBe(200);
    expect(await push.count({ attributes: { user: 'bob' } })).toBe(1);
    expect(await push.count({ attributes: { user: 'alice' } })).toBe(0);
  });

  it('lets only the browser holding the keys detach itself', async () => {
    expect((await post(push, { subscription }, 'alice')).status).toBe(201);
    const mallory = { ...subscription, keys: newKeys() };
    expect((await post(push, { subscription: mallory, anonymous: true })).status).toBe(409);
    expect((await post(push, { subscription: mallory, anonymous: true }, 'alice')).status).toBe(409);
    expect(await push.count({ attributes: { user: 'alice' } })).toBe(1);
  });

  it('refuses an anonymous registration where identify refuses anonymous visitors, and a flag that is no boolean', async () => {
    expect((await post(push, { subscription, anonymous: true }, 'nobody')).status).toBe(401);
    const bad = await post(push, { subscription, anonymous: 'yes' }, 'alice');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'anonymous' });
  });

  it("keeps the visitor's time zone and language in their canonical form, whatever clientAttributes says", async () => {
    expect((await post(push, { subscription, attributes: { timeZone: 'europe/paris', language: 'fr-ca' } })).status).toBe(201);
    expect((await store.getSubscriptionByEndpoint(subscription.endpoint))?.attributes).toEqual({ timeZone: 'Europe/Paris', language: 'fr-CA' });
    // A zone this server does not know, or a language that is no tag, is left out (the send's own zone then serves them).
    expect((await post(push, { subscription, attributes: { timeZone: 'Mars/Olympus_Mons', language: 'klingon!' } })).status).toBe(200);
    expect((await store.getSubscriptionByEndpoint(subscription.endpoint))?.attributes).toEqual({});
    for (const attributes of [{ timeZone: 5 }, { language: true }, { timeZone: 'x'.repeat(300) }]) {
      const refused = await post(push, { subscription, attributes });
      expect(refused.status, JSON.stringify(attributes)).toBe(400);
    }
    // Kept through a re-registration that carries no attributes, as any the visitor chose.
    await post(push, { subscription, attributes: { timeZone: 'Asia/Tokyo' } });
    await post(push, { subscription });
    expect((await store.getSubscriptionByEndpoint(subscription.endpoint))?.attributes).toEqual({ timeZone: 'Asia/Tokyo' });
  });
});
