import type { PoolClient } from 'pg';
import { applyCap, type CapCheck, type CapEntry } from '../server/controls/frequencyCap.js';

/**
 * postgresStore's `capSends` inside the caller's transaction: the batch's rows are read
 * `FOR UPDATE` (in id order, so two batches that share subscribers lock them in the same
 * order and cannot deadlock), decided by applyCap, and the changed records written back
 * in one statement. Another sender capping the same subscribers waits for the commit and
 * decides on what this one wrote.
 */
export async function capInTransaction(client: PoolClient, table: string, ids: string[], check: CapCheck): Promise<string[]> {
  const { rows } = await client.query<{ id: string; recent_pushes: CapEntry[] | null }>(
    `SELECT id, recent_pushes FROM ${table} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  const capped: string[] = [];
  const written: { id: string; record: string }[] = [];
  for (const row of rows) {
    const { allowed, record } = applyCap(row.recent_pushes ?? undefined, check);
    if (!allowed) capped.push(row.id);
    else if (record) written.push({ id: row.id, record: JSON.stringify(record) });
  }
  if (written.length > 0) {
    await client.query(
      `UPDATE ${table} AS s SET recent_pushes = u.record FROM unnest($1::text[], $2::jsonb[]) AS u(id, record) WHERE s.id = u.id`,
      [written.map((w) => w.id), written.map((w) => w.record)],
    );
  }
  return capped;
}
