import type BetterSqlite3 from 'better-sqlite3';
import type { ScheduledSend, SendPlan } from '../../schedule/scheduleTypes.js';
import type { SubscriptionStore } from '../SubscriptionStore.js';

type ScheduleMethods = Pick<SubscriptionStore, 'scheduleSend' | 'claimScheduledSends' | 'updateScheduledSend' | 'deleteScheduledSend'>;

/** The table of kept sends (beside their send-log rows, which hold what they send). */
const schema = `
  CREATE TABLE IF NOT EXISTS scheduled_sends (
    id TEXT PRIMARY KEY,
    run_at INTEGER NOT NULL,
    plan TEXT NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS scheduled_sends_due ON scheduled_sends(run_at);
`;

/**
 * sqliteStore's kept sends. A claim reads the due rows and writes the lease in one
 * IMMEDIATE transaction: another process's claim waits for the write lock and then sees
 * the lease, so each send has one holder at a time.
 */
export function sqliteSchedule(db: BetterSqlite3.Database): ScheduleMethods {
  db.exec(schema);
  const statements = {
    insert: db.prepare('INSERT OR IGNORE INTO scheduled_sends (id, run_at, plan) VALUES (?, ?, ?)'),
    due: db.prepare<[number, number, number], { id: string; run_at: number; plan: string }>(
      'SELECT id, run_at, plan FROM scheduled_sends WHERE run_at <= ? AND lease_until < ? ORDER BY run_at, id LIMIT ?',
    ),
    lease: db.prepare('UPDATE scheduled_sends SET lease_owner = ?, lease_until = ? WHERE id = ?'),
    update: db.prepare(
      'UPDATE scheduled_sends SET lease_until = ?, run_at = coalesce(?, run_at), plan = coalesce(?, plan) WHERE id = ? AND lease_owner = ?',
    ),
    delete: db.prepare('DELETE FROM scheduled_sends WHERE id = ?'),
  };
  const claim = db.transaction((now: number, owner: string, leaseUntil: number, limit: number): ScheduledSend[] => {
    const rows = statements.due.all(now, now, limit);
    for (const row of rows) statements.lease.run(owner, leaseUntil, row.id);
    return rows.map((row) => ({ id: row.id, runAt: row.run_at, plan: JSON.parse(row.plan) as SendPlan }));
  });
  return {
    async scheduleSend({ id, runAt, plan }) {
      return statements.insert.run(id, runAt, JSON.stringify(plan)).changes === 1;
    },
    async claimScheduledSends({ now, owner, leaseUntil, limit }) {
      return claim.immediate(now, owner, leaseUntil, limit);
    },
    async updateScheduledSend(id, owner, { leaseUntil, runAt, plan }) {
      return statements.update.run(leaseUntil, runAt ?? null, plan === undefined ? null : JSON.stringify(plan), id, owner).changes === 1;
    },
    async deleteScheduledSend(id) {
      return statements.delete.run(id).changes === 1;
    },
  };
}
