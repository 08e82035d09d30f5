import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { postgresStore } from '../../../src/postgres/index.js';
import { memoryStore, sqliteStore, type SubscriptionStore } from '../../../src/server/index.js';
import type { RegisterRequest } from '../../../src/shared/protocol.js';
import { freshName, postgresUrl, serviceAnswers } from '../../support/services.js';

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
