import { createECDH } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, type PushServer, type SubscriptionStore } from '../../../src/server/index.js';
import { eventsKey, signEvents } from '../../../src/server/crypto/eventsSignature.js';
import type { InsightEvent } from '../../../src/server/stats/statsTypes.js';
import { toBase64Url } from '../../../src/shared/base64url.js';
import type { TidingsEvent } from '../../../src/shared/protocol.js';
import { storeKinds } from '../../support/storeKinds.js';

// Events count only when signed with the key of the subscription they name (DESIGN.md,
// Insight): each attack below goes through the public handler, and no figure moves.
const base = 'https://site.example/api/push';
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const HOUR = 3_600_000;
const kinds = await storeKinds();

describe.each(kinds)('events on %s: only signed ones count', (_name, create) => {
  let store: SubscriptionStore;
  let push: PushServer;
  let counted: InsightEvent[];
  let alice: { id: string; auth: string };
  let bob: { id: string; auth: string };

  const post = (body: string, headers: Record<string, string> = {}, clientAddress = '203.0.113.7') =>
    push.handler(new Request(`${base}/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }), { clientAddress });
  const register = async (n: number) => {
    const keys = { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(crypto.getRandomValues(new Uint8Array(16))) };
    const subscription = { endpoint: `https://fcm.googleapis.com/fcm/send/s${n}`, expirationTime: null, keys };
    const response = await push.handler(
      new Request(`${base}/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36' },
        body: JSON.stringify({ subscription }),
      }),
    );
    expect(response.status).toBe(201);
    return { id: ((await response.json()) as { id: string }).id, auth: keys.auth };
  };
  let nextId = 0;
  const events = (...types: TidingsEvent['type'][]): TidingsEvent[] => types.map((type) => ({ id: `e${nextId++}`, type, messageId: 'm1', at: Date.now() }));
  /** The body a worker posts, and its signature with `signer`'s key. */
  const signed = (subscription: string, list: TidingsEvent[], signer = subscription === alice.id ? alice : bob) => {
    const body = JSON.stringify({ subscription, events: list });
    return { body, headers: { 'tidings-signature': signEvents(eventsKey(signer.auth)!, body) } };
  };
  /** Every figure a site reads for m1: its funnel and the hours around now. */
  const figures = async () => {
    const { createdAt: _c, startedAt: _s, finishedAt: _f, ...message } = (await push.stats.message('m1'))!;
    return { message, timeline: await push.stats.timeline({ since: Date.now() - 2 * HOUR, bucket: 'hour' }) };
  };

  beforeEach(async () => {
    store = create();
    counted = [];
    push = createPushServer({ vapid, store, pushServices: 'any', onEvent: (event) => void counted.push(event) });
    alice = await register(1);
    bob = await register(2);
    await store.createSend({ id: 'm1', envelope: { v: 1, id: 'm1' }, audience: null, options: {}, via: 'send', state: 'done', createdAt: Date.now(), targeted: 2, sent: 2, gone: 0, failed: 0, pruned: 0, capped: 0, deferred: 0, failures: [] });
  });
  afterEach(() => store.close());

  it('counts events signed with the key of the subscription they name, once each, and tells onEvent', async () => {
    const { body, headers } = signed(alice.id, events('delivered', 'shown', 'clicked'));
    const response = await post(body, headers);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ received: 3, stored: 3, counted: 3 });
    expect(await push.stats.message('m1')).toMatchObject({ delivered: 1, shown: 1, clicked: 1, clickRate: 1, byBrowser: { chrome: { shown: 1 } }, byService: { fcm: { shown: 1 } } });
    expect(counted.map((e) => [e.kind, e.kind !== 'message.send.finished' && e.subscription])).toEqual([
      ['message.push.delivered', { id: alice.id, service: 'fcm', browser: 'chrome' }],
      ['message.push.shown', { id: alice.id, service: 'fcm', browser: 'chrome' }],
      ['message.push.clicked', { id: alice.id, service: 'fcm', browser: 'chrome' }],
    ]);
  });

  it('an unsigned request: stored as unverified, no verified figure moves', async () => {
    const before = await figures();
    const response = await post(JSON.stringify({ events: events('delivered', 'shown', 'clicked') }));
    expect(response.status).toBe(202);
    const after = await figures();
    expect({ ...after.message, unverified: before.message.unverified }).toEqual(before.message);
    expect(after.timeline).toEqual(before.timeline);
    expect(after.message.unverified).toMatchObject({ delivered: 1, shown: 1, clicked: 1 });
    // Naming a subscription without signing for it changes nothing more.
    expect((await post(JSON.stringify({ subscription: alice.id, events: events('shown') }))).status).toBe(202);
    expect((await figures()).message.shown).toBe(0);
    expect(counted).toEqual([]);
  });

  it('a wrong signature: refused, nothing stored, no figure moves', async () => {
    const before = await figures();
    const { body } = signed(alice.id, events('shown', 'clicked'));
    for (const header of [`v1=${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`, 'v1=', 'v2=abc', signEvents(new Uint8Array(32), body), 'garbage']) {
      const response = await post(body, { 'tidings-signature': header });
      expect(response.status, header).toBe(403);
      expect(await response.json()).toEqual({ error: 'forbidden', reason: 'signature' });
    }
    expect(await figures()).toEqual(before);
    expect(await store.listEvents()).toEqual([]);
    expect(counted).toEqual([]);
  });

  it("another subscription's id: refused, no figure moves", async () => {
    const before = await figures();
    // Bob signs with his own key but names Alice (to inflate, or to spend her once-per-type).
    const { body, headers } = signed(alice.id, events('shown', 'clicked'), bob);
    expect((await post(body, headers)).status).toBe(403);
    expect(await figures()).toEqual(before);
    // Alice's own clicks still count afterwards: nothing of hers was spent.
    const own = signed(alice.id, events('clicked'));
    expect(await (await post(own.body, own.headers)).json()).toMatchObject({ counted: 1 });
  });

  it('a replayed body: accepted, adds nothing', async () => {
    const { body, headers } = signed(alice.id, events('delivered', 'shown', 'clicked'));
    expect(await (await post(body, headers)).json()).toMatchObject({ counted: 3 });
    const before = await figures();
    for (let i = 0; i < 3; i++) {
      const response = await post(body, headers, `198.51.100.${i}`);
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ received: 3, stored: 0, counted: 0 });
    }
    // Fresh event ids (only the key's owner can sign them): still once per message, subscription and type.
    const again = signed(alice.id, events('shown', 'clicked', 'clicked'));
    expect(await (await post(again.body, again.headers)).json()).toMatchObject({ stored: 3, counted: 0 });
    expect(await figures()).toEqual(before);
    expect(counted).toHaveLength(3);
  });

  it('a signature over a different body: refused, no figure moves', async () => {
    const before = await figures();
    const { headers } = signed(alice.id, events('shown'));
    const other = JSON.stringify({ subscription: alice.id, events: events('shown', 'clicked', 'clicked') });
    expect((await post(other, headers)).status).toBe(403);
    // The same JSON with other spacing is other bytes: refused too.
    const { body, headers: own } = signed(alice.id, events('clicked'));
    expect((await post(body.replace(',', ', '), own)).status).toBe(403);
    expect(await figures()).toEqual(before);
  });

  it('an unknown subscription: refused, no figure moves', async () => {
    const before = await figures();
    const stranger = { id: 'no-such-subscription', auth: toBase64Url(crypto.getRandomValues(new Uint8Array(16))) };
    const body = JSON.stringify({ subscription: stranger.id, events: events('shown', 'clicked') });
    expect((await post(body, { 'tidings-signature': signEvents(eventsKey(stranger.auth)!, body) })).status).toBe(403);
    // A subscription deleted since (unsubscribed): its key signs for nothing any more.
    await store.deleteSubscription(bob.id);
    const late = signed(bob.id, events('shown'), bob);
    expect((await post(late.body, late.headers)).status).toBe(403);
    const { createdAt: _c, startedAt: _s, finishedAt: _f, ...message } = (await push.stats.message('m1'))!;
    expect(message).toEqual(before.message);
  });

  it('counts nothing older than retention, so a body replayed after its counts were pruned adds nothing', async () => {
    const old = Date.now() - 31 * 24 * HOUR;
    const list = [{ id: 'old1', type: 'shown' as const, messageId: 'm1', at: old }];
    const { body, headers } = signed(alice.id, list);
    expect(await (await post(body, headers)).json()).toEqual({ received: 1, stored: 1, counted: 0 });
    expect((await push.stats.message('m1'))!.shown).toBe(0);
  });
});

describe('the events rate limit', () => {
  it('is kept per verified subscription, and per client for the rest', async () => {
    const store = kinds[0]![1]();
    const push = createPushServer({ vapid, store, pushServices: 'any', eventsPerMinute: 2 });
    const post = (body: string, headers: Record<string, string> = {}) =>
      push.handler(new Request(`${base}/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }), { clientAddress: '203.0.113.7' });
    const subscribers = [];
    for (const n of [1, 2]) {
      const keys = { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(crypto.getRandomValues(new Uint8Array(16))) };
      const { id } = await store.saveSubscription({ subscription: { endpoint: `https://fcm.googleapis.com/fcm/send/r${n}`, keys } });
      subscribers.push({ id, auth: keys.auth });
    }
    const event = (id: string) => ({ id, type: 'shown', messageId: 'm', at: Date.now() });
    // Two subscriptions behind one address (a campus, a carrier's NAT): two allowances.
    for (const [i, { id, auth }] of subscribers.entries()) {
      const body = JSON.stringify({ subscription: id, events: [event(`a${i}`), event(`b${i}`)] });
      expect((await post(body, { 'tidings-signature': signEvents(eventsKey(auth)!, body) })).status).toBe(202);
    }
    const unsigned = JSON.stringify({ events: [event('c1'), event('c2')] });
    expect((await post(unsigned)).status).toBe(202);
    expect((await post(JSON.stringify({ events: [event('c3')] }))).status).toBe(429);
    await store.close();
  });
});
