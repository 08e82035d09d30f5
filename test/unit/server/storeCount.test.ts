import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresStore } from '../../../src/postgres/index.js';
import { memoryStore, sqliteStore, type SubscriptionQuery, type SubscriptionStore } from '../../../src/server/index.js';
import { freshName, postgresUrl, serviceAnswers } from '../../support/services.js';

// countSubscriptions answers what findSubscriptions would find, without reading the rows:
// the queue counts a send's audience with it when the send is queued.
const dir = mkdtempSync(join(tmpdir(), 'tidings-count-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stores: [string, () => SubscriptionStore][] = [
  ['memoryStore', () => memoryStore()],
  ['sqliteStore', () => sqliteStore(join(dir, `${freshName('count')}.db`))],
];
const schemas: string[] = [];
if (await serviceAnswers('PostgreSQL', postgresUrl)) {
  stores.push(['postgresStore', () => postgresStore({ connectionString: postgresUrl, schema: (schemas.push(freshName('tidings_count')), schemas.at(-1)!) })]);
  afterAll(async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
}

describe.each(stores)('%s.countSubscriptions', (_name, create) => {
  let store: SubscriptionStore;
  beforeEach(() => {
    store = create();
  });
  afterEach(() => store.close());

  it('counts what findSubscriptions finds, for every kind of query, paging ignored', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 12; n++) {
      const { id } = await store.saveSubscription({
        subscription: { endpoint: `https://push.example.net/${n}`, expirationTime: null, keys: { p256dh: `p${n}`, auth: `a${n}` } },
        attributes: { team: n % 3 === 0 ? 'red' : 'blue', n },
      });
      ids.push(id);
    }
    const queries: SubscriptionQuery[] = [{}, { attributes: { team: 'red' } }, { attributes: { team: 'blue', n: 4 } }, { attributes: { team: 'green' } }, { ids: ids.slice(0, 5) }, { ids: [] }, { ids: [ids[0]!, 'unknown'] }];
    for (const query of queries) {
      expect(await store.countSubscriptions!({ ...query, limit: 2, after: '' })).toBe((await store.findSubscriptions(query)).length);
    }
    expect(await store.countSubscriptions!()).toBe(12);
    expect(await store.countSubscriptions!({ attributes: { team: 'red' } })).toBe(4);
  });
});
