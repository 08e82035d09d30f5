import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, type PushServer, type SendTarget, type SubscriptionStore } from '../../../src/server/index.js';
import type { Attributes } from '../../../src/shared/protocol.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { storeKinds } from '../../support/storeKinds.js';

// Who a send reaches, through createPushServer on every store, against the local push
// service: an audience meant for somebody never reaches everyone, and the richer
// audiences (any of, or, but not, present/absent) reach exactly their subscribers.

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let service: PushService;
beforeAll(async () => {
  service = await startPushService();
});
afterAll(() => service.close());

const people: Record<string, Attributes> = {
  alice: { user: 'alice', team: 'red', sports: true },
  bob: { user: 'bob', team: 'blue', news: true },
  carol: { user: '007', team: 'green', sports: true, promos: false },
  dave: { user: 7, team: 'red' },
  erin: { user: 'erin' },
};

/** Inputs that once reached every subscriber: each must now be refused, reaching nobody. */
export const meantForNobody: [string, () => unknown][] = [
  ["a '__proto__' key from JSON.parse", () => ({ attributes: JSON.parse('{"__proto__": "x"}') })],
  ['inherited attributes', () => ({ attributes: Object.create({ user: 'alice' }) })],
  ['an audience that inherits everything', () => Object.create({ attributes: { user: 'alice' } })],
  ['{}', () => ({})],
  ['empty attributes', () => ({ attributes: {} })],
  ['attributes: undefined', () => ({ attributes: undefined })],
  ['attributes: null', () => ({ attributes: null })],
  ['an empty any', () => ({ any: [] })],
  ['an empty list of values', () => ({ attributes: { user: [] } })],
  ['a Map of attributes', () => ({ attributes: new Map([['user', 'alice']]) })],
  ['an unknown part', () => ({ attrs: { user: 'alice' } })],
  ['a null prototype with __proto__ own key', () => ({ attributes: Object.assign(Object.create(null), { ['__proto__']: 'x' }) })],
  ['a getter', () => ({ attributes: { get user() { return 'alice'; } } })],
  ['nesting past the bound', () => ({ not: { not: { not: { not: { not: { attributes: { user: 'alice' } } } } } } })],
  ['more terms than the bound', () => ({ attributes: { user: Array.from({ length: 300 }, (_, i) => `u${i}`) } })],
  ['a value longer than any attribute', () => ({ attributes: { user: 'x'.repeat(10_000) } })],
  ['a NUL in a value', () => ({ attributes: { user: 'alice\u0000' } })],
  ['null', () => null],
  ['a number', () => 42],
];

describe.each(await storeKinds())('%s', (_name, create) => {
  let store: SubscriptionStore;
  let push: PushServer;
  const endpoints = new Map<string, string>();
  beforeEach(async () => {
    store = create();
    push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, retries: 0 });
    for (const [name, attributes] of Object.entries(people)) {
      const subscription = await service.subscribe(vapid.publicKey);
      endpoints.set(name, subscription.endpoint);
      await store.saveSubscription({ subscription, attributes });
    }
  });
  afterEach(() => store.close());

  /** Who received the message `id`, by name. */
  const reached = async (id: string) => {
    const names: string[] = [];
    for (const [name, endpoint] of endpoints) {
      if ((await service.received(endpoint)).some((text) => (JSON.parse(text) as { id: string }).id === id)) names.push(name);
    }
    return names.sort();
  };

  it.each(meantForNobody)('refuses %s as `to`: send, count, setAttributes and removeSubscriptions reach nobody', async (_what, to) => {
    const invalid = expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: expect.stringMatching(/^to/) }) });
    await expect(push.send({ v: 1, id: 'nobody', notification: { title: 'For nobody' } }, { to: to() as SendTarget })).rejects.toEqual(invalid);
    await expect(push.count(to() as SendTarget)).rejects.toEqual(invalid);
    await expect(push.setAttributes(to() as SendTarget, { hit: true })).rejects.toEqual(invalid);
    await expect(push.removeSubscriptions(to() as SendTarget)).rejects.toEqual(invalid);
    expect(await reached('nobody')).toEqual([]);
    expect(await push.count()).toBe(5);
    expect(await push.count({ attributes: { hit: { present: true } } })).toBe(0);
  });

  it.each<[string, SendTarget, string[]]>([
    ['any of', { attributes: { team: ['red', 'blue'] } }, ['alice', 'bob', 'dave']],
    ['or', { any: [{ attributes: { sports: true } }, { attributes: { news: true } }] }, ['alice', 'bob', 'carol']],
    ['but not', { attributes: { sports: true }, not: { attributes: { promos: false } } }, ['alice']],
    ['present', { attributes: { promos: { present: true } } }, ['carol']],
    ['absent', { attributes: { sports: { present: false }, news: { present: false } } }, ['dave', 'erin']],
    ["the string '007', not the number 7", { attributes: { user: '007' } }, ['carol']],
    ['the number 7, not a string', { attributes: { user: 7 } }, ['dave']],
  ])('sends to %s, and counts the same beforehand', async (what, to, expected) => {
    const id = `m-${what.replace(/\W+/g, '-')}`;
    expect(await push.count(to)).toBe(expected.length);
    const result = await push.send({ v: 1, id, notification: { title: what } }, { to });
    expect(result).toMatchObject({ sent: expected.length, failed: 0 });
    expect(await reached(id)).toEqual(expected);
  });

  it('sends to everyone only when `to` is left out', async () => {
    expect(await push.count()).toBe(5);
    expect((await push.send({ v: 1, id: 'all', notification: { title: 'All' } })).sent).toBe(5);
    expect(await reached('all')).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']);
  });

  it('tags matching subscriptions from the server, and a send then finds them by the tag', async () => {
    expect(await push.setAttributes({ attributes: { user: ['alice', 'bob'] } }, { plan: 'pro' })).toBe(2);
    expect(await push.setAttributes({ attributes: { user: 'bob' } }, { news: null })).toBe(1);
    expect(await push.count({ attributes: { plan: 'pro' } })).toBe(2);
    expect(await push.count({ attributes: { news: { present: true } } })).toBe(0);
    await push.send({ v: 1, id: 'pro', notification: { title: 'Pro' } }, { to: { attributes: { plan: 'pro' } } });
    expect(await reached('pro')).toEqual(['alice', 'bob']);
    await expect(push.setAttributes(undefined as never, { plan: 'x' })).rejects.toMatchObject({ code: 'invalid-option', details: { option: 'to' } });
    await expect(push.setAttributes({ attributes: { user: 'alice' } }, JSON.parse('{"__proto__": "x"}'))).rejects.toMatchObject({ code: 'invalid-option' });
  });

  it("removes a person's subscriptions (account deletion), and only theirs", async () => {
    expect(await push.removeSubscriptions({ attributes: { user: 'alice' } })).toBe(1);
    expect(await push.removeSubscriptions({ attributes: { user: 'alice' } })).toBe(0);
    await expect(push.removeSubscriptions(undefined as never)).rejects.toMatchObject({ code: 'invalid-option', details: { option: 'to' } });
    expect(await push.count()).toBe(4);
    expect(await push.count({ attributes: { user: 'alice' } })).toBe(0);
  });
});
