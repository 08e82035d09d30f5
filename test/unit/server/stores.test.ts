import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { postgresStore } from '../../../src/postgres/index.js';
import { memoryStore, sqliteStore, type SubscriptionStore } from '../../../src/server/index.js';
import type { Attributes, RegisterRequest } from '../../../src/shared/protocol.js';
import type { SubscriptionQuery } from '../../../src/server/index.js';
import { freshName, postgresUrl, serviceAnswers } from '../../support/services.js';
import { insightSuite } from '../../support/insightSuite.js';

const dir = mkdtempSync(join(tmpdir(), 'tidings-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const stores: [string, () => SubscriptionStore][] = [
  ['memoryStore', () => memoryStore()],
  ['sqliteStore', () => sqliteStore(join(dir, `store-${files++}.db`))],
];

// PostgreSQL: a fresh schema per store (the database keeps what earlier runs left),
// all dropped at the end.
const schemas: string[] = [];
if (await serviceAnswers('PostgreSQL', postgresUrl)) {
  stores.push([
    'postgresStore',
    () => {
      schemas.push(freshName('tidings_suite'));
      return postgresStore({ connectionString: postgresUrl, schema: schemas.at(-1)! });
    },
  ]);
  afterAll(async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
}

function registration(n: number, attributes?: RegisterRequest['attributes']): RegisterRequest {
  const request: RegisterRequest = {
    subscription: { endpoint: `https://push.example.net/${n}`, expirationTime: null, keys: { p256dh: `p${n}`, auth: `a${n}` } },
  };
  if (attributes) request.attributes = attributes;
  return request;
}

describe.each(stores)('%s', (_name, create) => {
  let store: SubscriptionStore;
  beforeEach(() => {
    store = create();
  });
  afterEach(() => store.close());

  it('saves a subscription and reads it back', async () => {
    const { id, created } = await store.saveSubscription({ ...registration(1, { lang: 'en' }), sealKey: { p256dh: 's', auth: 't' } });
    expect(created).toBe(true);
    expect(await store.getSubscription(id)).toMatchObject({
      id,
      subscription: registration(1).subscription,
      sealKey: { p256dh: 's', auth: 't' },
      attributes: { lang: 'en' },
    });
  });

  it('keeps the id when the same endpoint registers again, and updates keys and attributes', async () => {
    const first = await store.saveSubscription(registration(1, { lang: 'en' }));
    const again = await store.saveSubscription({ ...registration(1, { lang: 'fr' }), sealKey: { p256dh: 's', auth: 't' } });
    expect(again).toEqual({ id: first.id, created: false });
    const stored = await store.getSubscription(first.id);
    expect(stored?.attributes).toEqual({ lang: 'fr' });
    expect(stored?.sealKey).toEqual({ p256dh: 's', auth: 't' });
    expect(await store.findSubscriptions()).toHaveLength(1);
  });

  it('deletes by id and says whether it did', async () => {
    const { id } = await store.saveSubscription(registration(1));
    expect(await store.deleteSubscription(id)).toBe(true);
    expect(await store.deleteSubscription(id)).toBe(false);
    expect(await store.getSubscription(id)).toBeUndefined();
  });

  it('finds subscriptions by ids and by attributes of every type', async () => {
    const a = await store.saveSubscription(registration(1, { lang: 'en', vip: true, level: 3 }));
    const b = await store.saveSubscription(registration(2, { lang: 'en', vip: false, level: 3 }));
    await store.saveSubscription(registration(3, { lang: 'fr', level: '3' }));
    const ids = async (query: Parameters<SubscriptionStore['findSubscriptions']>[0]) =>
      (await store.findSubscriptions(query)).map((entry) => entry.id).sort();
    expect(await ids({})).toHaveLength(3);
    expect(await ids({ ids: [a.id, 'unknown'] })).toEqual([a.id]);
    expect(await ids({ ids: [] })).toEqual([]);
    expect(await ids({ attributes: { lang: 'en' } })).toEqual([a.id, b.id].sort());
    expect(await ids({ attributes: { lang: 'en', vip: true } })).toEqual([a.id]);
    expect(await ids({ attributes: { level: 3 } })).toEqual([a.id, b.id].sort());
    expect(await ids({ ids: [b.id], attributes: { vip: true } })).toEqual([]);
  });

  it('answers in pages: ids in order, after `after`, at most `limit`', async () => {
    const saved: string[] = [];
    for (let n = 1; n <= 5; n++) saved.push((await store.saveSubscription(registration(n, { lang: n % 2 ? 'en' : 'fr' }))).id);
    const sorted = [...saved].sort();
    const page = async (query: Parameters<SubscriptionStore['findSubscriptions']>[0]) =>
      (await store.findSubscriptions(query)).map((entry) => entry.id);
    expect(await page({ limit: 2 })).toEqual(sorted.slice(0, 2));
    expect(await page({ limit: 2, after: sorted[1] })).toEqual(sorted.slice(2, 4));
    expect(await page({ limit: 2, after: sorted[3] })).toEqual(sorted.slice(4));
    expect(await page({ limit: 2, after: sorted[4] })).toEqual([]);
    const english = sorted.filter((id) => [saved[0], saved[2], saved[4]].includes(id));
    expect(await page({ attributes: { lang: 'en' }, limit: 2 })).toEqual(english.slice(0, 2));
    expect(await page({ attributes: { lang: 'en' }, limit: 2, after: english[1] })).toEqual(english.slice(2));
    expect(await page({ ids: [saved[4]!, saved[0]!], limit: 1 })).toEqual([[saved[4]!, saved[0]!].sort()[0]]);
  });

  it('keeps its pages in id order while subscriptions come and go between them', async () => {
    const live = new Set<string>();
    let n = 0;
    const add = async () => live.add((await store.saveSubscription(registration(++n))).id);
    for (let i = 0; i < 12; i++) await add();
    const expected = () => [...live].sort();
    const read: string[] = [];
    let after: string | undefined;
    for (let round = 0; ; round++) {
      const found = (await store.findSubscriptions({ limit: 3, ...(after === undefined ? {} : { after }) })).map((entry) => entry.id);
      // Each page is the next of what the store holds now, whatever came and went before it.
      expect(found).toEqual(expected().filter((id) => after === undefined || id > after).slice(0, 3));
      if (found.length === 0) break;
      read.push(...found);
      after = found.at(-1);
      // Between pages: one more, one of those not read yet gone, one already read gone (a send prunes what is gone).
      if (round % 2 === 0) await add();
      const ahead = expected().find((id) => id > after!);
      if (ahead !== undefined && round % 3 === 1) {
        await store.deleteSubscription(ahead);
        live.delete(ahead);
      }
      if (round % 2 === 1) {
        await store.deleteSubscriptions({ ids: [read[0]!] });
        live.delete(read[0]!);
      }
    }
    expect(read).toEqual([...read].sort());
  });

  it('stores events once per id', async () => {
    const events = [
      { id: 'e1', type: 'delivered' as const, messageId: 'm1', at: 1 },
      { id: 'e2', type: 'shown' as const, messageId: 'm2', at: 2 },
    ];
    expect(await store.addEvents(events)).toBe(2);
    expect(await store.addEvents([...events, { id: 'e3', type: 'clicked', messageId: 'm1', action: 'open', at: 3 }])).toBe(1);
    expect(await store.listEvents()).toHaveLength(3);
    expect((await store.listEvents({ messageId: 'm1' })).map((e) => e.id)).toEqual(['e1', 'e3']);
    expect((await store.listEvents({ type: 'shown' })).map((e) => e.id)).toEqual(['e2']);
    expect(await store.listEvents({ limit: 1 })).toHaveLength(1);
  });

  it('finds a subscription by its endpoint', async () => {
    const { id } = await store.saveSubscription(registration(1, { lang: 'en' }));
    expect(await store.getSubscriptionByEndpoint('https://push.example.net/1')).toMatchObject({ id, attributes: { lang: 'en' } });
    expect(await store.getSubscriptionByEndpoint('https://push.example.net/2')).toBeUndefined();
  });

  it('remembers since when a subscription has been failing, until a push succeeds', async () => {
    const { id } = await store.saveSubscription(registration(1));
    await store.markDelivery(id, true, 1000);
    await store.markDelivery(id, true, 2000);
    expect((await store.getSubscription(id))?.failingSince).toBe(1000);
    expect((await store.findSubscriptions({ limit: 10 }))[0]?.failingSince).toBe(1000);
    await store.markDelivery(id, false, 3000);
    expect((await store.getSubscription(id))?.failingSince).toBeUndefined();
    await store.markDelivery('unknown', true, 1000);
  });

  it('deletes events older than a retention cut-off', async () => {
    await store.addEvents([
      { id: 'old1', type: 'delivered', at: 1_000 },
      { id: 'old2', type: 'shown', at: 1_999 },
      { id: 'new', type: 'shown', at: 2_000 },
    ]);
    expect(await store.deleteEventsBefore(2_000)).toBe(2);
    expect((await store.listEvents()).map((e) => e.id)).toEqual(['new']);
    expect(await store.deleteEventsBefore(2_000)).toBe(0);
  });

  it('keeps messages until they expire', async () => {
    await store.saveMessage('live', '{"v":1}', Date.now() + 60_000);
    await store.saveMessage('dead', '{"v":1}', Date.now() - 1);
    expect(await store.getMessage('live')).toBe('{"v":1}');
    expect(await store.getMessage('dead')).toBeUndefined();
    expect(await store.getMessage('none')).toBeUndefined();
  });
});

// Keys and values an attacker would try on a query builder: SQL, JSON and jsonpath
// metacharacters, LIKE wildcards, a comment, a quote of each kind.
const injectedKey = `k'); DROP TABLE subscriptions; --`;
const injectedValue = `x' OR '1'='1`;
const oddKey = 'a"b\\c$.%_{}?[*]';
const people: Record<string, Attributes> = {
  alice: { team: 'red', vip: true, level: 3, [injectedKey]: injectedValue },
  bob: { team: 'blue', level: '3' },
  carol: { team: 'green', vip: false, [oddKey]: '1' },
  dave: { team: 'red', promos: false },
  erin: {},
};

/** [what, query, who matches]: each runs on every store, whole and in pages. */
const audiences: [string, SubscriptionQuery, string[]][] = [
  ['a value', { attributes: { team: 'red' } }, ['alice', 'dave']],
  ['any of a list', { attributes: { team: ['red', 'blue'] } }, ['alice', 'bob', 'dave']],
  ['a list keeps types apart', { attributes: { level: [3, true] } }, ['alice']],
  ["the string '3' is not the number 3", { attributes: { level: '3' } }, ['bob']],
  ['or', { any: [{ attributes: { vip: true } }, { attributes: { team: 'green' } }] }, ['alice', 'carol']],
  ['but not', { attributes: { team: ['red', 'blue'] }, not: { attributes: { vip: true } } }, ['bob', 'dave']],
  ['present', { attributes: { vip: { present: true } } }, ['alice', 'carol']],
  ['absent', { attributes: { vip: { present: false } } }, ['bob', 'dave', 'erin']],
  ['not alone', { not: { attributes: { team: 'red' } } }, ['bob', 'carol', 'erin']],
  ['present and a value', { attributes: { promos: { present: true }, team: 'red' } }, ['dave']],
  [
    'nested or, and, not',
    { any: [{ attributes: { team: 'red' }, not: { attributes: { promos: false } } }, { attributes: { level: '3' } }] },
    ['alice', 'bob'],
  ],
  ['an injected key and value, stored, are matched as text', { attributes: { [injectedKey]: injectedValue } }, ['alice']],
  ['an injected value matches nothing else', { attributes: { team: injectedValue } }, []],
  ['injected values in a list', { attributes: { team: [injectedValue, "red'--", 'red" OR 1=1'] } }, []],
  ['an injected key, present', { attributes: { [injectedKey]: { present: true } } }, ['alice']],
  ['an injected key, absent', { attributes: { [injectedKey]: { present: false } } }, ['bob', 'carol', 'dave', 'erin']],
  ['a key of metacharacters', { attributes: { [oddKey]: '1' } }, ['carol']],
  ['a key of metacharacters in any of', { attributes: { [oddKey]: ['1', '2'] } }, ['carol']],
  ['an injected key never stored', { attributes: { "x') OR 1=1 --": { present: true } } }, []],
  ['names on Object.prototype are no attributes', { attributes: { toString: { present: true } } }, []],
  ['nor are they absent attributes only on some', { attributes: { hasOwnProperty: { present: false } } }, ['alice', 'bob', 'carol', 'dave', 'erin']],
];

describe.each(stores)('%s: audiences', (_name, create) => {
  let store: SubscriptionStore;
  let names: Map<string, string>;
  beforeEach(async () => {
    store = create();
    names = new Map();
    let n = 0;
    for (const [name, attributes] of Object.entries(people)) names.set((await store.saveSubscription(registration(++n, attributes))).id, name);
  });
  afterEach(() => store.close());

  const who = (found: { id: string }[]) => found.map((entry) => names.get(entry.id)!).sort();

  it.each(audiences)('%s', async (_what, query, expected) => {
    expect(who(await store.findSubscriptions(query))).toEqual(expected);
    expect(await store.countSubscriptions(query)).toBe(expected.length);
    // Paged as send() reads, two at a time: the same matches, in id order, none twice.
    const paged: { id: string }[] = [];
    for (let after: string | undefined; ; ) {
      const page = await store.findSubscriptions({ ...query, limit: 2, after });
      paged.push(...page);
      if (page.length < 2) break;
      after = page.at(-1)!.id;
    }
    expect(paged.map((entry) => entry.id)).toEqual(paged.map((entry) => entry.id).sort());
    expect(who(paged)).toEqual(expected);
    // Ids and an audience together: both must hold.
    const [first] = [...names.keys()].sort();
    expect(who(await store.findSubscriptions({ ...query, ids: [first!] }))).toEqual(expected.filter((name) => name === names.get(first!)));
    // Nothing was dropped or changed on the way.
    expect(await store.countSubscriptions()).toBe(5);
  });

  it.each([
    ['{ attributes: {} }', { attributes: {} }],
    ["a '__proto__' key from JSON.parse", { attributes: JSON.parse('{"__proto__": "x"}') as Attributes }],
    ['inherited attributes', { attributes: Object.create({ team: 'red' }) as Attributes }],
    ['an empty list', { attributes: { team: [] } }],
    ['an empty any', { any: [] }],
    ['an unknown part', { attributes: { team: 'red' }, everyone: true } as SubscriptionQuery],
    ['a nested object value', { attributes: { team: { $ne: 'x' } } } as unknown as SubscriptionQuery],
  ])('refuses %s instead of reading it as everyone', async (_what, query) => {
    const refused = expect.objectContaining({ code: 'invalid-option' });
    await expect(store.findSubscriptions(query)).rejects.toEqual(refused);
    await expect(store.findSubscriptions({ ...query, limit: 10 })).rejects.toEqual(refused);
    await expect(store.countSubscriptions(query)).rejects.toEqual(refused);
    await expect(store.updateAttributes(query, { tagged: true })).rejects.toEqual(refused);
    await expect(store.deleteSubscriptions(query)).rejects.toEqual(refused);
    expect(await store.countSubscriptions()).toBe(5);
    expect(await store.countSubscriptions({ attributes: { tagged: { present: true } } })).toBe(0);
  });

  it('merges attributes into every match, removing keys set to null, and finds them by the new values', async () => {
    expect(await store.updateAttributes({ attributes: { team: 'red' } }, { plan: 'pro', promos: null, [injectedKey]: 'y' })).toBe(2);
    const byName = new Map((await store.findSubscriptions()).map((entry) => [names.get(entry.id), entry.attributes]));
    expect(byName.get('alice')).toEqual({ team: 'red', vip: true, level: 3, [injectedKey]: 'y', plan: 'pro' });
    expect(byName.get('dave')).toEqual({ team: 'red', plan: 'pro', [injectedKey]: 'y' });
    expect(byName.get('bob')).toEqual(people.bob);
    expect(who(await store.findSubscriptions({ attributes: { plan: 'pro' } }))).toEqual(['alice', 'dave']);
    expect(who(await store.findSubscriptions({ attributes: { promos: { present: true } } }))).toEqual([]);
    expect(who(await store.findSubscriptions({ attributes: { [injectedKey]: injectedValue } }))).toEqual([]);
    expect(await store.countSubscriptions({ attributes: { [injectedKey]: 'y' } })).toBe(2);
    // Matched by the attributes before the change: changing the key matched on moves each row once.
    expect(await store.updateAttributes({ attributes: { team: ['red', 'blue'] } }, { team: 'blue' })).toBe(3);
    expect(await store.countSubscriptions({ attributes: { team: 'blue' } })).toBe(3);
    expect(await store.updateAttributes({ attributes: { team: 'nobody' } }, { plan: 'free' })).toBe(0);
  });

  it('refuses attribute changes no subscription can hold, changing nothing', async () => {
    for (const changes of [{}, JSON.parse('{"__proto__": "x"}'), { team: { nested: 1 } }, { team: Number.NaN }, Object.create({ plan: 'pro' })]) {
      await expect(store.updateAttributes({ attributes: { team: 'red' } }, changes)).rejects.toMatchObject({ code: 'invalid-option' });
    }
    const red = new Map((await store.findSubscriptions({ attributes: { team: 'red' } })).map((entry) => [names.get(entry.id), entry.attributes]));
    expect(red).toEqual(new Map([['alice', people.alice], ['dave', people.dave]]));
  });

  it('deletes every match and nothing else', async () => {
    expect(await store.deleteSubscriptions({ attributes: { team: ['red', 'blue'] }, not: { attributes: { vip: true } } })).toBe(2);
    expect(who(await store.findSubscriptions())).toEqual(['alice', 'carol', 'erin']);
    expect(await store.deleteSubscriptions({ attributes: { team: 'nobody' } })).toBe(0);
    expect(await store.getSubscriptionByEndpoint('https://push.example.net/2')).toBeUndefined();
    // The endpoint is free again.
    expect((await store.saveSubscription(registration(2))).created).toBe(true);
  });
});

describe.each(stores)('%s: saveSubscription decides inside its transaction', (_name, create) => {
  let store: SubscriptionStore;
  beforeEach(() => {
    store = create();
  });
  afterEach(() => store.close());

  it('hands decide the stored row (or undefined) and writes its attributes and identity keys', async () => {
    const seen: unknown[] = [];
    const first = await store.saveSubscription(registration(1, { lang: 'en' }), (existing) => {
      seen.push(existing);
      return { attributes: { user: 'u1', lang: 'en' }, identityKeys: ['user'] };
    });
    expect(first.created).toBe(true);
    await store.saveSubscription(registration(1), (existing) => {
      seen.push(existing);
      return { attributes: { user: 'u2' }, identityKeys: ['user'] };
    });
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toMatchObject({ id: first.id, attributes: { user: 'u1', lang: 'en' }, identityKeys: ['user'] });
    expect(await store.getSubscription(first.id)).toMatchObject({ attributes: { user: 'u2' }, identityKeys: ['user'] });
    expect(await store.countSubscriptions({ attributes: { lang: { present: true } } })).toBe(0);
  });

  it('writes nothing when decide throws, and rejects with its error', async () => {
    const { id } = await store.saveSubscription(registration(1, { lang: 'en' }));
    const refusal = new Error('owned');
    const other = { ...registration(1), subscription: { ...registration(1).subscription, keys: { p256dh: 'other', auth: 'other' } } };
    await expect(store.saveSubscription(other, () => { throw refusal; })).rejects.toBe(refusal);
    await expect(store.saveSubscription(registration(2), () => { throw refusal; })).rejects.toBe(refusal);
    expect(await store.getSubscription(id)).toMatchObject({ subscription: registration(1).subscription, attributes: { lang: 'en' } });
    expect(await store.countSubscriptions()).toBe(1);
  });

  it('lets one of two racing registrations of a new endpoint decide on what the other wrote', async () => {
    for (let trial = 0; trial < 20; trial++) {
      const endpoint = 100 + trial;
      const decisions: (string | undefined)[] = [];
      const racer = (owner: string) =>
        store.saveSubscription(registration(endpoint), (existing) => {
          decisions.push(existing?.attributes.owner as string | undefined);
          if (existing) throw new Error('taken');
          return { attributes: { owner } };
        });
      const outcomes = await Promise.allSettled([racer('a'), racer('b')]);
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      const winner = (await store.getSubscriptionByEndpoint(`https://push.example.net/${endpoint}`))!.attributes.owner;
      // The loser saw the winner's row, however the two interleaved.
      expect(decisions.filter((seen) => seen !== undefined)).toEqual([winner]);
    }
  });
});

// The send log, the rollups and the stats (issue 19), on every store.
describe.each(stores)('%s: insight', (_name, create) => insightSuite(create));

describe('memoryStore', () => {
  it('keeps at most maxEvents, dropping the oldest', async () => {
    const store = memoryStore({ maxEvents: 3 });
    await store.addEvents([1, 2, 3, 4, 5].map((n) => ({ id: `e${n}`, type: 'shown' as const, at: n })));
    expect((await store.listEvents()).map((e) => e.id)).toEqual(['e3', 'e4', 'e5']);
  });

  it('refuses a maxEvents that is not a positive integer', () => {
    expect(() => memoryStore({ maxEvents: 0 })).toThrow(expect.objectContaining({ code: 'invalid-option' }));
  });
});

describe('sqliteStore', () => {
  it('keeps data across reopening the file', async () => {
    const file = join(dir, 'reopen.db');
    const first = sqliteStore(file);
    const { id } = await first.saveSubscription(registration(7, { team: 'a' }));
    await first.close();
    const second = sqliteStore(file);
    expect((await second.getSubscription(id))?.attributes).toEqual({ team: 'a' });
    await second.close();
  });

  it('fails at creation with a clear error when the file cannot be opened', () => {
    expect(() => sqliteStore(join(dir, 'missing-dir', 'x.db'))).toThrow(
      expect.objectContaining({ name: 'TidingsError', code: 'store-failed', message: expect.stringContaining('missing-dir') }),
    );
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'this is not a database, just text long enough to have a header '.repeat(20));
    expect(() => sqliteStore(garbage)).toThrow(expect.objectContaining({ code: 'store-failed' }));
  });
});
