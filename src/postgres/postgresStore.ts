import type * as Pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { TidingsEvent } from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';
import { requireOptional } from '../server/common/requireOptional.js';
import { checkAttributeChanges, checkSubscriptionQuery } from '../server/audience/checkAudience.js';
import type { SubscriptionStore } from '../server/stores/SubscriptionStore.js';
import { postgresWhere } from './postgresAudience.js';
import { fromRow, type SubscriptionRow } from './postgresRows.js';
import { postgresSchema } from './postgresSchema.js';
import { saveInTransaction } from './postgresSaveSubscription.js';
import { withClient } from './withClient.js';
import { capInTransaction } from './postgresCaps.js';
import { pushServiceOf } from '../server/stats/classify.js';
import { hourOf } from '../server/stores/insightRows.js';
import type { PostgresContext } from './postgresRollups.js';
import { postgresSendLog } from './postgresSendLog.js';
import { postgresSchedule } from './postgresSchedule.js';
import { postgresEvents } from './postgresEvents.js';
import { postgresStats } from './postgresStats.js';

export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/db`: a pool is made from it (and ended by `close()`). */
  connectionString?: string;
  /**
   * Your own `pg.Pool`, shared with the rest of the site; `close()` leaves it open. Its
   * `'error'` events stay yours: pg emits a dropped idle connection there, and a pool
   * nobody listens to ends the process, so give it `pool.on('error', …)` (tidings adds
   * no listener of its own to it, and reports to `onError` when it finds none).
   */
  pool?: Pool;
  /** The schema the tables live in, created on first use. @default 'tidings' */
  schema?: string;
  /**
   * Called with what went wrong between calls: a connection of the store's own pool that
   * dropped while idle (a database restart, a failover, an idle timeout; the pool forgets
   * it and the next call opens another), or a pool of yours without an `'error'` listener.
   * A call that meets a dropped connection rejects with `store-failed` instead.
   * @default a line on console.error
   */
  onError?: (error: Error) => void;
}

/**
 * The store for sites that outgrow one machine: PostgreSQL through `pg` (an optional
 * peer dependency), shared by any number of web servers and senders. Tables and indexes
 * are made on first use; attributes are JSONB with a GIN index, pages are read by id
 * (keyset), events are inserted a batch per statement. Nothing connects until the first
 * call.
 */
export function postgresStore(options: PostgresStoreOptions = {}): SubscriptionStore {
  const schema = options.schema ?? 'tidings';
  if (typeof schema !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new TidingsError('invalid-option', { option: 'schema', reason: 'must be a plain SQL identifier' });
  }
  if (!options.pool && typeof options.connectionString !== 'string') {
    throw new TidingsError('invalid-option', { option: 'connectionString', reason: 'give a connectionString or a pool' });
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new TidingsError('invalid-option', { option: 'onError', reason: 'must be a function' });
  }
  const onError = options.onError ?? ((error: Error) => console.error(`tidings: PostgreSQL: ${error.message}`));
  const t = (table: string): string => `"${schema}".${table}`;
  const ownPool = !options.pool;
  // Made once, on first use: a failed first use retries the schema, not a new pool.
  let pool: Pool | undefined = options.pool;
  let ready: Promise<Pool> | undefined;
  let closed = false;

  const open = async (): Promise<Pool> => {
    pool ??= ownedPool(options.connectionString!, onError);
    if (!ownPool && pool.listenerCount('error') === 0) {
      onError(new TidingsError('invalid-option', { option: 'pool', reason: "has no 'error' listener: a dropped idle connection will end the process" }));
    }
    await withClient(pool, async (client) => {
      try {
        // Several servers and senders may start at once: one makes the tables, the others wait.
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tidings:${schema}`]);
        await client.query(postgresSchema(schema));
        // Rows from before insight: their push service, from the endpoint, once.
        const { rows } = await client.query<{ id: string; endpoint: string }>(`SELECT id, endpoint FROM ${t('subscriptions')} WHERE service IS NULL`);
        if (rows.length > 0) {
          await client.query(`UPDATE ${t('subscriptions')} AS s SET service = u.service FROM unnest($1::text[], $2::text[]) AS u(id, service) WHERE s.id = u.id`, [
            rows.map((row) => row.id),
            rows.map((row) => pushServiceOf(row.endpoint)),
          ]);
        }
        await client.query('COMMIT');
      } catch (cause) {
        await client.query('ROLLBACK').catch(() => {});
        throw new TidingsError('store-failed', { reason: `cannot create the tables in schema ${schema}: ${(cause as Error).message}`, cause });
      }
    });
    return pool;
  };

  /** The pool, with the tables made (once, on first use). */
  const connected = async (): Promise<Pool> => {
    if (closed) throw new TidingsError('store-failed', { reason: 'the store is closed' });
    // A failed first use (database down) is tried again on the next call, not remembered.
    ready ??= open().catch((cause: unknown) => {
      ready = undefined;
      throw cause;
    });
    return ready;
  };
  const query = async <R extends QueryResultRow>(sql: string, params: unknown[] = []) => {
    const opened = await connected();
    try {
      return await opened.query<R>(sql, params);
    } catch (cause) {
      // A dropped connection, a statement the server refused: this call fails, the pool
      // replaces the connection, and the next call runs on a fresh one.
      throw new TidingsError('store-failed', { reason: `PostgreSQL: ${(cause as Error).message}`, cause });
    }
  };
  /**
   * Runs `work` on one connection inside BEGIN … COMMIT (ROLLBACK when it throws), heard
   * by withClient so that a connection dying mid-transaction fails this call, not the process.
   */
  const transaction = async <T>(work: (client: PoolClient) => Promise<T>): Promise<T> =>
    withClient(await connected(), async (client) => {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });

  const context: PostgresContext = { t, query, transaction };
  const events = postgresEvents(context);
  /**
   * Deletes the rows `where` matches and counts them into the current hour's rollup, in
   * one statement (so in one transaction). Resolves to how many.
   */
  const deleteCounted = async (where: string, params: unknown[]): Promise<number> => {
    params.push(hourOf(Date.now()));
    const { rows } = await query<{ n: string }>(
      `WITH gone AS (DELETE FROM ${t('subscriptions')} ${where ? `WHERE ${where}` : ''} RETURNING 1),
         counted AS (
           INSERT INTO ${t('hourly_stats')} (hour, unsubscribed) SELECT $${params.length}::bigint, count(*) FROM gone HAVING count(*) > 0
           ON CONFLICT (hour) DO UPDATE SET unsubscribed = ${t('hourly_stats')}.unsubscribed + excluded.unsubscribed
         )
       SELECT count(*) AS n FROM gone`,
      params,
    );
    return Number(rows[0]!.n);
  };

  return {
    async saveSubscription(request, decide) {
      return transaction((client) => saveInTransaction(client, t, request, decide));
    },
    async getSubscription(id) {
      const { rows } = await query<SubscriptionRow>(`SELECT * FROM ${t('subscriptions')} WHERE id = $1`, [id]);
      return rows[0] && fromRow(rows[0]);
    },
    async getSubscriptionByEndpoint(endpoint) {
      const { rows } = await query<SubscriptionRow>(`SELECT * FROM ${t('subscriptions')} WHERE endpoint = $1`, [endpoint]);
      return rows[0] && fromRow(rows[0]);
    },
    async markDelivery(id, failed, at) {
      if (failed) await query(`UPDATE ${t('subscriptions')} SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL`, [id, at]);
      else await query(`UPDATE ${t('subscriptions')} SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [id]);
    },
    async capSends(ids, check) {
      if (ids.length === 0) return [];
      return transaction((client) => capInTransaction(client, t('subscriptions'), ids, check));
    },
    async deleteSubscription(id) {
      return (await deleteCounted('id = $1', [id])) > 0;
    },
    async findSubscriptions(given) {
      const filter = checkSubscriptionQuery(given);
      if (filter.ids?.length === 0) return [];
      const params: unknown[] = [];
      const where = postgresWhere(filter, params);
      const conditions = where ? [where] : [];
      let tail = 'ORDER BY created_at, id';
      if (filter.limit !== undefined) {
        // Keyset paging: the primary key gives the order and the start, so a page deep
        // into a million rows costs the same as the first.
        if (filter.after !== undefined) {
          params.push(filter.after);
          conditions.push(`id > $${params.length}`);
        }
        params.push(filter.limit);
        tail = `ORDER BY id LIMIT $${params.length}`;
      }
      const sql = `SELECT * FROM ${t('subscriptions')} ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ${tail}`;
      return (await query<SubscriptionRow>(sql, params)).rows.map(fromRow);
    },
    async countSubscriptions(given) {
      const params: unknown[] = [];
      const where = postgresWhere(checkSubscriptionQuery(given), params);
      const { rows } = await query<{ n: string }>(`SELECT count(*) AS n FROM ${t('subscriptions')} ${where ? `WHERE ${where}` : ''}`, params);
      return Number(rows[0]!.n);
    },
    async updateAttributes(given, changes) {
      const filter = checkSubscriptionQuery(given);
      const checked = Object.entries(checkAttributeChanges(changes, 'changes'));
      // One statement: a row matches by its attributes as they were before the change.
      const params: unknown[] = [
        JSON.stringify(Object.fromEntries(checked.filter(([, value]) => value !== null))),
        checked.filter(([, value]) => value === null).map(([key]) => key),
        Date.now(),
      ];
      const where = postgresWhere(filter, params);
      const sql = `UPDATE ${t('subscriptions')} SET attributes = (attributes || $1::jsonb) - $2::text[], updated_at = $3 ${where ? `WHERE ${where}` : ''}`;
      return (await query(sql, params)).rowCount ?? 0;
    },
    async deleteSubscriptions(given) {
      const params: unknown[] = [];
      return deleteCounted(postgresWhere(checkSubscriptionQuery(given), params), params);
    },
    addEvents: events.addEvents,
    recordEvents: events.recordEvents,
    deleteEventsBefore: events.deleteEventsBefore,
    ...postgresSendLog(context),
    ...postgresSchedule(context),
    ...postgresStats(context),
    async listEvents(filter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.messageId !== undefined) {
        params.push(filter.messageId);
        where.push(`message_id = $${params.length}`);
      }
      if (filter.type !== undefined) {
        params.push(filter.type);
        where.push(`type = $${params.length}`);
      }
      params.push(filter.limit ?? 1000);
      const sql = `SELECT body FROM ${t('events')} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`;
      return (await query<{ body: TidingsEvent }>(sql, params)).rows.map((row) => row.body);
    },
    async saveMessage(id, body, expiresAt) {
      await query(`DELETE FROM ${t('messages')} WHERE expires_at <= $1`, [Date.now()]);
      await query(
        `INSERT INTO ${t('messages')} (id, body, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, expires_at = excluded.expires_at`,
        [id, body, expiresAt],
      );
    },
    async getMessage(id) {
      const { rows } = await query<{ body: string }>(`SELECT body FROM ${t('messages')} WHERE id = $1 AND expires_at > $2`, [id, Date.now()]);
      return rows[0]?.body;
    },
    async close() {
      if (closed) return;
      closed = true;
      await ready?.catch(() => undefined);
      if (pool && ownPool) await pool.end();
    },
  };
}

/**
 * The store's own pool, listened to: pg emits an idle connection that drops (a restart,
 * a failover, `pg_terminate_backend`) as an 'error' on the pool, which would otherwise end
 * the process. The pool has already discarded that connection when it says so.
 */
function ownedPool(connectionString: string, onError: (error: Error) => void): Pool {
  const pool = new (requireOptional<typeof Pg>('pg', '8').Pool)({ connectionString, max: 10 });
  pool.on('error', (error) => onError(new TidingsError('store-failed', { reason: `an idle connection dropped: ${error.message}`, cause: error })));
  return pool;
}
