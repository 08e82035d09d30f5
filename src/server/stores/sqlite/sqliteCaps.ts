import type BetterSqlite3 from 'better-sqlite3';
import { applyCap, type CapCheck, type CapEntry } from '../../controls/frequencyCap.js';

/**
 * sqliteStore's `capSends`: the records of a batch read and written in one IMMEDIATE
 * transaction, so another process capping the same subscribers waits for this one and
 * decides on what it wrote. The record is the `recent_pushes` column (JSON).
 */
export function sqliteCaps(db: BetterSqlite3.Database): { immediate(ids: string[], check: CapCheck): string[] } {
  const read = db.prepare<[string], { id: string; recent_pushes: string | null }>(
    'SELECT id, recent_pushes FROM subscriptions WHERE id IN (SELECT value FROM json_each(?))',
  );
  const write = db.prepare('UPDATE subscriptions SET recent_pushes = ? WHERE id = ?');
  return db.transaction((ids: string[], check: CapCheck) => {
    const capped: string[] = [];
    for (const row of read.all(JSON.stringify(ids))) {
      const { allowed, record } = applyCap(row.recent_pushes ? (JSON.parse(row.recent_pushes) as CapEntry[]) : undefined, check);
      if (!allowed) capped.push(row.id);
      else if (record) write.run(JSON.stringify(record), row.id);
    }
    return capped;
  });
}
