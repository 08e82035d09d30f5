import type BetterSqlite3 from 'better-sqlite3';
import type { SendRecord } from '../../stats/statsTypes.js';
import type { SendListQuery, SendUpdate, SendUpdated, StoredSend } from '../insightRows.js';
import { mergeSendUpdate } from '../mergeSendUpdate.js';
import type { SqliteRollups } from './sqliteRollups.js';

/**
 * sqliteStore's send log: a row per send, the record as JSON beside the columns it is
 * looked up by. An update reads and writes the row in one IMMEDIATE transaction (another
 * process's update waits), merging by mergeSendUpdate's rules, with the hourly rollup.
 */
export function sqliteSendLog(db: BetterSqlite3.Database, rollups: SqliteRollups) {
  const statements = {
    insert: db.prepare('INSERT OR IGNORE INTO sends (id, created_at, state, scheduled_at, record) VALUES (?, ?, ?, ?, ?)'),
    get: db.prepare<[string], { record: string }>('SELECT record FROM sends WHERE id = ?'),
    update: db.prepare('UPDATE sends SET state = ?, record = ? WHERE id = ?'),
  };

  const create = db.transaction((record: SendRecord): boolean => {
    const stored: StoredSend = { ...record, services: {} };
    const inserted = statements.insert.run(record.id, record.createdAt, record.state, record.scheduledAt ?? null, JSON.stringify(stored)).changes === 1;
    if (inserted && record.startedAt !== undefined) rollups.addToHour(record.startedAt, 'messages', 1);
    return inserted;
  });
  const update = db.transaction((id: string, change: SendUpdate): SendUpdated | undefined => {
    const row = statements.get.get(id);
    if (!row) return undefined;
    const merged = mergeSendUpdate(JSON.parse(row.record) as StoredSend, change);
    statements.update.run(merged.send.state, JSON.stringify(merged.send), id);
    rollups.addToHour(Date.now(), 'sent', merged.sentGrew);
    if (merged.started) rollups.addToHour(merged.send.startedAt!, 'messages', 1);
    return { send: merged.send, finished: merged.finished };
  });

  return {
    async createSend(record: SendRecord) {
      return create.immediate(record);
    },
    async updateSend(id: string, change: SendUpdate) {
      return update.immediate(id, change);
    },
    async getSend(id: string) {
      const row = statements.get.get(id);
      return row && (JSON.parse(row.record) as StoredSend);
    },
    async listSends({ since, until, limit, before }: SendListQuery) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (since !== undefined) {
        where.push('created_at >= ?');
        params.push(since);
      }
      if (until !== undefined) {
        where.push('created_at < ?');
        params.push(until);
      }
      // Keyset: the index on (created_at, id) read backwards from the last row of the page before.
      if (before) {
        where.push('(created_at < ? OR (created_at = ? AND id < ?))');
        params.push(before.createdAt, before.createdAt, before.id);
      }
      const sql = `SELECT record FROM sends ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
      return (db.prepare(sql).all(...params, limit) as { record: string }[]).map((row) => JSON.parse(row.record) as StoredSend);
    },
  };
}
