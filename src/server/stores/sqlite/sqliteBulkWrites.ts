import type BetterSqlite3 from 'better-sqlite3';
import type { AttributeChanges, SubscriptionQuery } from '../../audience/Audience.js';
import { sqliteWhere } from './sqliteAudience.js';

/**
 * What sqliteStore does to many subscriptions at once, for checked queries: statements
 * for audiences, prepared once per shape; `update` (merge attributes into every match)
 * and `remove` (delete every match). Each write first lists the matches in a temporary
 * table, so a row matches by its attributes before the change (the cascade of a delete or
 * a changed attribute cannot move the ground under the audience's subqueries), and runs
 * as one IMMEDIATE transaction.
 */
export interface SqliteBulkWrites {
  /** A statement for an audience's SQL, prepared once per shape. */
  prepare(sql: string): BetterSqlite3.Statement;
  /** Merges `changes` into every match (IMMEDIATE); resolves to how many matched. */
  update: { immediate(query: SubscriptionQuery, changes: AttributeChanges): number };
  /** Deletes every match (IMMEDIATE); how many. */
  remove: { immediate(query: SubscriptionQuery): number };
}

export function sqliteBulkWrites(db: BetterSqlite3.Database): SqliteBulkWrites {
  // Per connection, so other connections and processes never see it.
  db.exec('CREATE TEMP TABLE IF NOT EXISTS tidings_matched (id TEXT PRIMARY KEY)');
  const statements = {
    clear: db.prepare('DELETE FROM temp.tidings_matched'),
    patch: db.prepare('UPDATE subscriptions SET attributes = json_patch(attributes, ?), updated_at = ? WHERE id IN (SELECT id FROM temp.tidings_matched)'),
    unset: db.prepare('DELETE FROM subscription_attributes WHERE key = ? AND subscription_id IN (SELECT id FROM temp.tidings_matched)'),
    set: db.prepare('INSERT INTO subscription_attributes (subscription_id, key, value) SELECT id, ?, ? FROM temp.tidings_matched'),
    delete: db.prepare('DELETE FROM subscriptions WHERE id IN (SELECT id FROM temp.tidings_matched)'),
  };

  // A few dozen shapes cover a site's sends; past 100 the oldest is dropped.
  const shapes = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string): BetterSqlite3.Statement => {
    let statement = shapes.get(sql);
    if (!statement) {
      if (shapes.size >= 100) shapes.delete(shapes.keys().next().value as string);
      statement = db.prepare(sql);
      shapes.set(sql, statement);
    }
    return statement;
  };

  /** Lists the query's matches in temp.tidings_matched (inside the caller's transaction); says how many. */
  const match = (query: SubscriptionQuery): number => {
    const { sql, params } = sqliteWhere(query);
    statements.clear.run();
    return prepare(`INSERT INTO temp.tidings_matched SELECT id FROM subscriptions ${sql ? `WHERE ${sql}` : ''}`).run(...params).changes;
  };
  const update = db.transaction((query: SubscriptionQuery, changes: AttributeChanges) => {
    const matched = match(query);
    // json_patch is RFC 7396: a null removes its key, as AttributeChanges says.
    statements.patch.run(JSON.stringify(changes), Date.now());
    for (const [key, value] of Object.entries(changes)) {
      statements.unset.run(key);
      if (value !== null) statements.set.run(key, JSON.stringify(value));
    }
    statements.clear.run();
    return matched;
  });
  const remove = db.transaction((query: SubscriptionQuery) => {
    match(query);
    const deleted = statements.delete.run().changes;
    statements.clear.run();
    return deleted;
  });
  return { prepare, update, remove };
}
