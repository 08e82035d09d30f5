import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../../src/postgres/index.js';
import { freshName, postgresUrl, serviceAnswers } from '../../support/services.js';

// What the shared store suite (test/unit/server/stores.test.ts) cannot see: the SQL
// underneath. The suite itself runs on PostgreSQL there.
const up = await serviceAnswers('PostgreSQL', postgresUrl);
const schemas: string[] = [];
const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
pool.on('error', () => {});
afterAll(async () => {
  if (up) for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});
const schema = () => (schemas.push(freshName('tidings_pg')), schemas.at(-1)!);

describe.runIf(up)('postgresStore', () => {
  it('makes its tables on first use, once, when several stores start at the same moment', async () => {
    const name = schema();
    const stores = Array.from({ length: 4 }, () => postgresStore({ connectionString: postgresUrl, schema: name }));
    const ids = await Promise.all(
      stores.map((store, n) =>
        store.saveSubscription({ subscription: { endpoint: `https://push.example.net/${n}`, expirationTime: null, keys: { p256dh: 'p', auth: 'a' } } }),
      ),
    );
    expect(new Set(ids.map((r) => r.id)).size).toBe(4);
    const { rows } = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [name]);
    expect(rows.map((r) => r.table_name)).toEqual(['counted_events', 'events', 'hourly_stats', 'message_events', 'messages', 'scheduled_sends', 'sends', 'subscriptions']);
    await Promise.all(stores.map((store) => store.close()));
  });

  it('answers {attributes} from the JSONB index, not by reading every row', async () => {
    const name = schema();
    const store = postgresStore({ pool, schema: name });
    await store.saveSubscription({ subscription: { endpoint: 'https://push.example.net/x', expirationTime: null, keys: { p256dh: 'p', auth: 'a' } }, attributes: { user: '42' } });
    // A small table is cheaper to scan; forbid the scan to see that the index serves the query.
    const client = await pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const { rows } = await client.query(`EXPLAIN SELECT * FROM "${name}".subscriptions WHERE attributes @> $1::jsonb ORDER BY id LIMIT 500`, [
        '{"user":"42"}',
      ]);
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('subscriptions_by_attributes');
    } finally {
      client.release();
    }
    await store.close();
  });

  it('pages in plain string order whatever the database collation', async () => {
    const name = schema();
    const store = postgresStore({ pool, schema: name });
    for (const n of [1, 2, 3, 4, 5, 6]) {
      await store.saveSubscription({ subscription: { endpoint: `https://push.example.net/${n}`, expirationTime: null, keys: { p256dh: 'p', auth: 'a' } } });
    }
    const ids = (await store.findSubscriptions({ limit: 10 })).map((s) => s.id);
    // JavaScript's < is code-unit order, the order send() checks its pages against.
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    // Six random ids may not tell a locale's order from byte order: the column says it.
    // (.ci/run makes its database with an ICU en-US collation, where 'a' < 'B'.)
    const { rows } = await pool.query(
      `SELECT collation_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'subscriptions' AND column_name = 'id'`,
      [name],
    );
    expect(rows[0].collation_name).toBe('C');
    await store.close();
  });

  it('leaves a pool it was given open when closed', async () => {
    const store = postgresStore({ pool, schema: schema() });
    await store.getSubscription('none');
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await expect(store.getSubscription('none')).rejects.toMatchObject({ code: 'store-failed' });
  });

  it('refuses a schema name that is not a plain identifier, and a missing connection', () => {
    expect(() => postgresStore({ connectionString: postgresUrl, schema: 'a"; DROP TABLE x; --' })).toThrow(
      expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'schema' }) }),
    );
    expect(() => postgresStore({})).toThrow(expect.objectContaining({ code: 'invalid-option' }));
  });

  it('fails with store-failed, and tries again later, when the database does not answer', async () => {
    const store = postgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none', schema: schema() });
    await expect(store.getSubscription('x')).rejects.toMatchObject({ code: 'store-failed', message: expect.stringContaining('cannot connect') });
    await expect(store.getSubscription('x')).rejects.toMatchObject({ code: 'store-failed' });
    await store.close();
  });
});
