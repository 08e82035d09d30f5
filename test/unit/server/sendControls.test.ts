import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServer, type SubscriptionStore } from '../../../src/server/index.js';
import type { Envelope } from '../../../src/shared/protocol.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { newReceiver, openText } from '../../support/receiver.js';
import { fromBase64Url } from '../../../src/shared/base64url.js';

// The sending controls of a send that goes now: languages, frequency caps and the
// throttle, through the local push service (every payload decrypted as a browser would).

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const origin = 'https://site.example';
let service: PushService;
let store: SubscriptionStore;
let clock: number;
const make = (options: object = {}): PushServer =>
  createPushServer({ vapid, store, allowLoopbackEndpoints: true, now: () => clock, ...options });
beforeEach(async () => {
  service = await startPushService();
  store = memoryStore();
  clock = Date.UTC(2030, 0, 15, 9);
});
afterEach(() => service.close());

async function subscriber(attributes: Record<string, string> = {}, sealed = false) {
  const subscription = await service.subscribe();
  const receiver = sealed ? await newReceiver() : undefined;
  const { id } = await store.saveSubscription({ subscription, attributes, ...(receiver ? { sealKey: receiver.keys } : {}) });
  return { id, endpoint: subscription.endpoint, receiver };
}

const received = async (endpoint: string): Promise<Envelope[]> => (await service.received(endpoint)).map((text) => JSON.parse(text) as Envelope);

describe('languages', () => {
  const envelope: Envelope = { v: 1, id: 'hello', notification: { title: 'Hello', body: 'Good morning', url: '/news' } };
  const locales = {
    fr: { notification: { title: 'Bonjour', body: 'Bon matin' } },
    'pt-BR': { notification: { title: 'Olá', body: 'Bom dia' } },
  };

  it('gives each subscriber the best match for their language, one language per payload', async () => {
    const push = make();
    const people = {
      'fr-CA': await subscriber({ language: 'fr-CA' }),
      fr: await subscriber({ language: 'fr' }),
      'pt-BR': await subscriber({ language: 'pt-BR' }),
      de: await subscriber({ language: 'de' }),
      none: await subscriber(),
    };
    const result = await push.send(envelope, { locales });
    expect(result).toMatchObject({ sent: 5, failed: 0 });
    const expected = { 'fr-CA': 'Bonjour', fr: 'Bonjour', 'pt-BR': 'Olá', de: 'Hello', none: 'Hello' };
    for (const [who, { endpoint }] of Object.entries(people)) {
      const [message] = await received(endpoint);
      expect(message!.notification!.title, who).toBe(expected[who as keyof typeof expected]);
      expect(message, who).toMatchObject({ id: 'hello', notification: { url: '/news' } });
      // One language in the payload: no other language's text travels along.
      const text = JSON.stringify(message);
      for (const other of ['Bonjour', 'Olá', 'Hello'].filter((title) => title !== message!.notification!.title)) expect(text, who).not.toContain(other);
    }
  });

  it('seals each language for its subscriber, and fetches a too-large one in its own language', async () => {
    const push = make();
    const sealedFr = await subscriber({ language: 'fr-FR' }, true);
    const big = 'x'.repeat(5000);
    const fetchers = { fr: await subscriber({ language: 'fr' }), en: await subscriber({ language: 'en' }) };
    await push.send(envelope, { locales, to: [sealedFr.id] });
    const [sealed] = await received(sealedFr.endpoint);
    const opened = JSON.parse(await openText(fromBase64Url(sealed!.sealed!)!, sealedFr.receiver!)) as Envelope;
    expect(opened.notification).toMatchObject({ title: 'Bonjour', body: 'Bon matin' });

    await push.send({ ...envelope, id: 'big', data: big }, { locales, to: [fetchers.fr.id, fetchers.en.id] });
    for (const [who, title] of [['fr', 'Bonjour'], ['en', 'Hello']] as const) {
      const [pointer] = await received(fetchers[who].endpoint);
      expect(pointer!.fetch).toMatch(/^\/api\/push\/messages\//);
      const body = await (await push.handler(new Request(`${origin}${pointer!.fetch}`))).json() as Envelope;
      expect(body.notification!.title, who).toBe(title);
    }
  });

  it('refuses languages that are not tags, or fields a language cannot change, before sending anything', async () => {
    const push = make();
    const { endpoint } = await subscriber({ language: 'fr' });
    await expect(push.send(envelope, { locales: { 'fr_FR!': { notification: { title: 'x' } } } })).rejects.toThrow(/invalid-option locales/);
    await expect(push.send(envelope, { locales: { fr: { notification: { url: 'javascript:alert(1)', title: 5 } } } as never })).rejects.toThrow(/invalid-option locales/);
    expect(await service.received(endpoint)).toEqual([]);
  });
});

describe('frequency caps', () => {
  it('skips a subscriber who got 3 pushes today, counting them capped, and keeps the record bounded', async () => {
    const push = make({ cap: { max: 3, per: '1d' } });
    const busy = await subscriber();
    const fresh = await subscriber();
    for (let i = 0; i < 3; i++) {
      clock += 3_600_000;
      expect(await push.send({ v: 1, id: `m${i}`, data: i }, { to: [busy.id] })).toMatchObject({ sent: 1, capped: 0 });
    }
    clock += 3_600_000;
    expect(await push.send({ v: 1, id: 'fourth', data: 4 })).toMatchObject({ sent: 1, capped: 1 });
    // The send log counts them too: targeted is everyone the send dealt with.
    expect(await push.status('fourth')).toMatchObject({ state: 'done', targeted: 2, sent: 1, capped: 1 });
    expect((await received(busy.endpoint)).map((message) => message.id)).toEqual(['m0', 'm1', 'm2']);
    expect((await received(fresh.endpoint)).map((message) => message.id)).toEqual(['fourth']);
    // A send past the cap (a password reset) still goes, and counts for later ones.
    expect(await push.send({ v: 1, id: 'reset' }, { to: [busy.id], cap: false })).toMatchObject({ sent: 1 });
    // A day later the first pushes have left the window.
    clock += 86_400_000;
    expect(await push.send({ v: 1, id: 'tomorrow' }, { to: [busy.id] })).toMatchObject({ sent: 1, capped: 0 });
    const record = (await store.getSubscription(busy.id))!.recentPushes!;
    expect(record.length).toBeLessThanOrEqual(3);
    // A send's own cap, stricter than the default.
    expect(await push.send({ v: 1, id: 'strict' }, { to: [fresh.id], cap: { max: 1, per: '7d' } })).toMatchObject({ sent: 0, capped: 1 });
  });

  it('writes no record for sends without any cap', async () => {
    const push = make();
    const { id } = await subscriber();
    expect(await push.send({ v: 1, data: 1 })).not.toHaveProperty('capped');
    expect((await store.getSubscription(id))!.recentPushes).toBeUndefined();
  });

  it('refuses a store without capSends when a cap is asked for', async () => {
    const { capSends: _, ...old } = memoryStore();
    expect(() => createPushServer({ vapid, store: old as SubscriptionStore, cap: { max: 1, per: '1d' } })).toThrow(/invalid-option store/);
    await expect(createPushServer({ vapid, store: old as SubscriptionStore }).send({ v: 1 }, { cap: { max: 1, per: '1d' } })).rejects.toThrow(/capSends/);
  });
});

describe('throttle', () => {
  it('starts at most perSecond pushes in any clock second', async () => {
    const push = make();
    const endpoints: string[] = [];
    for (let i = 0; i < 90; i++) endpoints.push((await subscriber()).endpoint);
    const started = Date.now();
    expect(await push.send({ v: 1, data: 1 }, { perSecond: 40 })).toMatchObject({ sent: 90 });
    // 90 at 40 a second: the third second at least.
    expect(Date.now() - started).toBeGreaterThan(1000);
    const perSecond = new Map<number, number>();
    for (const endpoint of endpoints) {
      const second = Math.floor(service.messages(endpoint)[0]!.receivedAt / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    // Counted where they arrive: a push started in its second's last slot (.877 s) that a
    // loaded machine delays past the second's end lands in the next one. One such, as the
    // e2e test's 1% (docs/controls.md); the starts themselves are controls.test.ts's.
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(41);
  });
});

describe('push.controls', () => {
  it('lists what send() takes', () => {
    expect(make().controls).toEqual(['at', 'localTime', 'timeZone', 'quietHours', 'perSecond', 'cap', 'locales']);
  });
});
