import type BetterSqlite3 from 'better-sqlite3';
import type { Attributes, RegisterRequest, SealKey, TidingsEvent } from '../../../shared/protocol.js';
import { TidingsError } from '../../../shared/TidingsError.js';
import { newId } from '../../crypto/newId.js';
import { missingDependency, requireOptional } from '../../common/requireOptional.js';
import { checkAttributeChanges, checkSubscriptionQuery } from '../../audience/checkAudience.js';
import type { DecideSave, StoredSubscription, SubscriptionStore } from '../SubscriptionStore.js';
import { sqliteLateIndexes, sqliteSchema } from './sqliteSchema.js';
import { sqliteWhere } from './sqliteAudience.js';
import { sqliteBulkWrites } from './sqliteBulkWrites.js';
import { sqliteCaps } from './sqliteCaps.js';
import { sqliteSchedule } from './sqliteSchedule.js';
import type { CapEntry } from '../../controls/frequencyCap.js';
import { pushServiceOf } from '../../stats/classify.js';
import { sqliteRollups } from './sqliteRollups.js';
import { sqliteSendLog } from './sqliteSendLog.js';
import { sqliteEvents } from './sqliteEvents.js';
import { sqliteStats } from './sqliteStats.js';

interface SubscriptionRow {
  id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  expiration_time: number | null;
  seal_key: string | null;
  attributes: string;
  created_at: number;
  updated_at: number;
  failing_since: number | null;
  identity_keys: string | null;
  recent_pushes: string | null;
  service: string | null;
  browser: string | null;
  last_sent_at: number | null;
}

/**
 * The embedded default store: one SQLite file (better-sqlite3 12), WAL mode, tables and
 * indexes created on first use. Throws TidingsError `store-failed` at once when the file
 * cannot be opened or is not a database, rather than on the first request.
 */
export function sqliteStore(file: string): SubscriptionStore {
  const Database = requireOptional<typeof BetterSqlite3>('better-sqlite3', '12');
  let db: BetterSqlite3.Database;
  try {
    db = new Database(file, { fileMustExist: false });
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.exec(sqliteSchema);
    // Files made before these columns existed: add them (SQLite has no ADD COLUMN IF NOT EXISTS).
    addColumns(db, 'subscriptions', ['failing_since INTEGER', 'identity_keys TEXT', 'service TEXT', 'browser TEXT', 'last_sent_at INTEGER', 'recent_pushes TEXT']);
    addColumns(db, 'events', ['subscription_id TEXT']);
    db.exec(sqliteLateIndexes);
    // Rows from before insight: their push service, from the endpoint, once.
    const unclassified = db.prepare<[], { id: string; endpoint: string }>('SELECT id, endpoint FROM subscriptions WHERE service IS NULL').all();
    const classify = db.prepare('UPDATE subscriptions SET service = ? WHERE id = ?');
    db.transaction(() => unclassified.forEach(({ id, endpoint }) => classify.run(pushServiceOf(endpoint), id)))();
  } catch (cause) {
    // Installed with --ignore-scripts (or for another Node): the JavaScript loads but the
    // native addon does not, which better-sqlite3 reports only when a database is opened.
    if (isMissingAddon(cause)) throw missingDependency('better-sqlite3', 'npm rebuild better-sqlite3', cause);
    throw new TidingsError('store-failed', { reason: `cannot open ${file}: ${(cause as Error).message}`, cause });
  }

  const statements = {
    upsert: db.prepare(
      `INSERT INTO subscriptions (id, endpoint, p256dh, auth, expiration_time, seal_key, attributes, created_at, updated_at, failing_since, identity_keys, service, browser)
       VALUES (@id, @endpoint, @p256dh, @auth, @expiration_time, @seal_key, @attributes, @created_at, @updated_at, NULL, @identity_keys, @service, @browser)
       ON CONFLICT(id) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth,
         expiration_time = excluded.expiration_time, seal_key = excluded.seal_key,
         attributes = excluded.attributes, updated_at = excluded.updated_at, identity_keys = excluded.identity_keys,
         service = excluded.service, browser = excluded.browser`,
    ),
    clearAttributes: db.prepare('DELETE FROM subscription_attributes WHERE subscription_id = ?'),
    addAttribute: db.prepare('INSERT INTO subscription_attributes (subscription_id, key, value) VALUES (?, ?, ?)'),
    get: db.prepare<[string], SubscriptionRow>('SELECT * FROM subscriptions WHERE id = ?'),
    getByEndpoint: db.prepare<[string], SubscriptionRow>('SELECT * FROM subscriptions WHERE endpoint = ?'),
    markFailed: db.prepare('UPDATE subscriptions SET failing_since = ? WHERE id = ? AND failing_since IS NULL'),
    markDelivered: db.prepare('UPDATE subscriptions SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL'),
    all: db.prepare<[], SubscriptionRow>('SELECT * FROM subscriptions ORDER BY created_at, id'),
    delete: db.prepare('DELETE FROM subscriptions WHERE id = ?'),
    saveMessage: db.prepare('INSERT OR REPLACE INTO messages (id, body, expires_at) VALUES (?, ?, ?)'),
    pruneMessages: db.prepare('DELETE FROM messages WHERE expires_at <= ?'),
    getMessage: db.prepare<[string, number], { body: string }>('SELECT body FROM messages WHERE id = ? AND expires_at > ?'),
  };

  const { prepare, update, remove } = sqliteBulkWrites(db);
  const caps = sqliteCaps(db);
  const rollups = sqliteRollups(db);
  const sendLog = sqliteSendLog(db, rollups);
  const events = sqliteEvents(db, rollups);
  const stats = sqliteStats(db);

  // IMMEDIATE: the write lock is taken before the row is read, so another process
  // registering the same endpoint waits instead of deciding on the same stale read.
  const save = db.transaction((request: RegisterRequest, decide: DecideSave | undefined) => {
    const { subscription, sealKey } = request;
    const known = statements.getByEndpoint.get(subscription.endpoint);
    const decision = decide ? decide(known && fromRow(known)) : { attributes: request.attributes ?? {} };
    const now = Date.now();
    const id = known?.id ?? newId();
    statements.upsert.run({
      id,
      endpoint: subscription.endpoint,
      p256dh: subscription.keys.p256dh,
      auth: subscription.keys.auth,
      expiration_time: subscription.expirationTime ?? null,
      seal_key: sealKey ? JSON.stringify(sealKey) : null,
      attributes: JSON.stringify(decision.attributes),
      created_at: known?.created_at ?? now,
      updated_at: now,
      identity_keys: decision.identityKeys ? JSON.stringify(decision.identityKeys) : null,
      service: pushServiceOf(subscription.endpoint),
      browser: decision.browser ?? known?.browser ?? 'unknown',
    });
    statements.clearAttributes.run(id);
    for (const [key, value] of Object.entries(decision.attributes)) statements.addAttribute.run(id, key, JSON.stringify(value));
    if (!known) rollups.addToHour(now, 'subscribed', 1);
    return { id, created: known === undefined };
  });
  // Deletions count into the hour they happen in, in their own transaction.
  const deleteOne = db.transaction((id: string): boolean => {
    const deleted = statements.delete.run(id).changes;
    rollups.addToHour(Date.now(), 'unsubscribed', deleted);
    return deleted > 0;
  });
  const deleteMatches = db.transaction((query: Parameters<typeof remove.immediate>[0]): number => {
    const deleted = remove.immediate(query);
    rollups.addToHour(Date.now(), 'unsubscribed', deleted);
    return deleted;
  });

  return {
    async saveSubscription(request, decide) {
      return save.immediate(request, decide);
    },
    async getSubscription(id) {
      const row = statements.get.get(id);
      return row && fromRow(row);
    },
    async getSubscriptionByEndpoint(endpoint) {
      const row = statements.getByEndpoint.get(endpoint);
      return row && fromRow(row);
    },
    async markDelivery(id, failed, at) {
      if (failed) statements.markFailed.run(at, id);
      else statements.markDelivered.run(id);
    },
    async capSends(ids, check) {
      return caps.immediate(ids, check);
    },
    async deleteSubscription(id) {
      return deleteOne.immediate(id);
    },
    async findSubscriptions(given) {
      const query = checkSubscriptionQuery(given);
      if (query.ids?.length === 0) return [];
      const { sql, params } = sqliteWhere(query);
      const where = sql ? [sql] : [];
      if (query.limit === undefined) {
        if (where.length === 0) return statements.all.all().map(fromRow);
        return (prepare(`SELECT * FROM subscriptions WHERE ${sql} ORDER BY created_at, id`).all(...params) as SubscriptionRow[]).map(fromRow);
      }
      // A page: the primary key's index gives the order and the start, so each page costs
      // its own rows, however deep into the table it is.
      if (query.after !== undefined) {
        where.push('id > ?');
        params.push(query.after);
      }
      const select = `SELECT * FROM subscriptions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
      return (prepare(select).all(...params, query.limit) as SubscriptionRow[]).map(fromRow);
    },
    async countSubscriptions(given) {
      const { sql, params } = sqliteWhere(checkSubscriptionQuery(given));
      return (prepare(`SELECT count(*) AS n FROM subscriptions ${sql ? `WHERE ${sql}` : ''}`).get(...params) as { n: number }).n;
    },
    async updateAttributes(given, changes) {
      const query = checkSubscriptionQuery(given);
      return update.immediate(query, checkAttributeChanges(changes, 'changes'));
    },
    async deleteSubscriptions(given) {
      return deleteMatches.immediate(checkSubscriptionQuery(given));
    },
    addEvents: events.addEvents,
    recordEvents: events.recordEvents,
    deleteEventsBefore: events.deleteEventsBefore,
    ...sendLog,
    ...sqliteSchedule(db),
    ...stats,
    async listEvents(query = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.messageId !== undefined) {
        where.push('message_id = ?');
        params.push(query.messageId);
      }
      if (query.type !== undefined) {
        where.push('type = ?');
        params.push(query.type);
      }
      const sql = `SELECT body FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid LIMIT ?`;
      const rows = db.prepare(sql).all(...params, query.limit ?? 1000) as { body: string }[];
      return rows.map((row) => JSON.parse(row.body) as TidingsEvent);
    },
    async saveMessage(id, body, expiresAt) {
      statements.pruneMessages.run(Date.now());
      statements.saveMessage.run(id, body, expiresAt);
    },
    async getMessage(id) {
      return statements.getMessage.get(id, Date.now())?.body;
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

function fromRow(row: SubscriptionRow): StoredSubscription {
  const entry: StoredSubscription = {
    id: row.id,
    subscription: {
      endpoint: row.endpoint,
      expirationTime: row.expiration_time,
      keys: { p256dh: row.p256dh, auth: row.auth },
    },
    attributes: JSON.parse(row.attributes) as Attributes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.seal_key) entry.sealKey = JSON.parse(row.seal_key) as SealKey;
  if (row.failing_since !== null) entry.failingSince = row.failing_since;
  if (row.identity_keys !== null) entry.identityKeys = JSON.parse(row.identity_keys) as string[];
  if (row.recent_pushes) entry.recentPushes = JSON.parse(row.recent_pushes) as CapEntry[];
  entry.browser = row.browser ?? 'unknown';
  if (row.last_sent_at !== null) entry.lastSentAt = row.last_sent_at;
  return entry;
}

/** Adds the columns a file made by an older tidings lacks (SQLite has no ADD COLUMN IF NOT EXISTS). */
function addColumns(db: BetterSqlite3.Database, table: string, columns: string[]): void {
  const present = db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all();
  for (const column of columns) {
    if (!present.some(({ name }) => column.startsWith(`${name} `))) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
  }
}

function isMissingAddon(error: unknown): boolean {
  const message = String((error as Error | undefined)?.message);
  return /Could not locate the bindings file|better_sqlite3\.node|NODE_MODULE_VERSION/.test(message);
}
