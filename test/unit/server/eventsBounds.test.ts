import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { postgresStore } from '../../../src/postgres/index.js';
import { createPushServer, generateVapidKeys, memoryStore, sqliteStore, type SubscriptionStore } from '../../../src/server/index.js';
import { freshName, postgresUrl, serviceAnswers } from '../../support/services.js';

// Numbers in an events request are the browser's to write: times from a wrong clock or
// an attacker (`at` 1e15 would outlive retention forever), and numbers no BIGINT holds
// (0.5, 1e19, 1e300 were a 500 on PostgreSQL, lost the good events of the batch and
// logged each time). Through the handler, on every store.
const dir = mkdtempSync(join(tmpdir(), 'tidings-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stores: [string, () => SubscriptionStore][] = [
  ['memoryStore', () => memoryStore()],
  ['sqliteStore', () => sqliteStore(join(dir, `${freshName('events')}.db`))],
];
const schemas: string[] = [];
if (await serviceAnswers('PostgreSQL', postgresUrl)) {
  stores.push(['postgresStore', () => postgresStore({ connectionString: postgresUrl, schema: (schemas.push(freshName('tidings_events')), schemas.at(-1)!) })]);
  afterAll(async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
}
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const day = 86_400_000;

describe.each(stores)('events on %s', (_name, create) => {
  let store: SubscriptionStore;
  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });
  const serve = (options: { eventRetentionDays?: number } = {}) => {
    const onError = vi.fn();
    const push = createPushServer({ vapid, store: (store = create()), onError, eventsPerMinute: false, ...options });
    const post = (events: unknown[]) =>
      push.handler(new Request('https://site.example/api/push/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) }));
    return { post, onError };
  };

  it('stores the good events of a batch whose other times no BIGINT holds, as whole numbers, with no 500 and nothing logged', async () => {
    const { post, onError } = serve();
    const now = Date.now();
    const response = await post([
      { id: 'good', type: 'shown', at: now - 1000 },
      { id: 'half', type: 'shown', at: 0.5 },
      { id: 'fractional', type: 'shown', at: now - 4000.5 },
      { id: 'big', type: 'clicked', at: 1e19 },
      { id: 'huge', type: 'closed', at: 1e300 },
      { id: 'dropped', type: 'failed', at: now - 2000, dropped: 1e300 },
      { id: 'fraction', type: 'failed', at: now - 3000, dropped: 2.5 },
    ]);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ received: 7, stored: 7, counted: 0 });
    expect(onError).not.toHaveBeenCalled();
    const stored = Object.fromEntries((await store.listEvents()).map((event) => [event.id, event]));
    expect(stored.good!.at).toBe(now - 1000);
    expect(stored.fractional!.at).toBe(now - 4001);
    // Stored at 0, then pruned by the retention pass this first request ran: older than 30 days.
    expect(stored.half).toBeUndefined();
    for (const id of ['big', 'huge']) {
      expect(stored[id]!.at).toBeGreaterThanOrEqual(now);
      expect(stored[id]!.at).toBeLessThanOrEqual(Date.now());
    }
    expect(stored.dropped!.dropped).toBe(Number.MAX_SAFE_INTEGER);
    expect(stored.fraction!.dropped).toBe(2);
  });

  it('prunes every event it kept once retention has passed, whatever time the browser claimed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const { post } = serve({ eventRetentionDays: 1 });
    expect((await post([{ id: 'future', type: 'shown', at: 1e15 }, { id: 'far', type: 'shown', at: 8.64e15 }, { id: 'now', type: 'shown', at: start }])).status).toBe(202);
    expect(await store.listEvents()).toHaveLength(3);
    // Retention runs on the back of an events request, at most once an hour.
    vi.setSystemTime(start + 2 * day);
    expect((await post([{ id: 'later', type: 'shown', at: start + 2 * day }])).status).toBe(202);
    expect((await store.listEvents()).map((event) => event.id)).toEqual(['later']);
  });

  it('still refuses what is not a time at all, naming it', async () => {
    const { post } = serve();
    for (const at of [-1, '1', null, true]) {
      const response = await post([{ id: 'x', type: 'shown', at }]);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ field: 'events[0].at', reason: 'not-non-negative-number' });
    }
  });
});
