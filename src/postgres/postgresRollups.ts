import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import { hourOf, type HourRow } from '../server/stores/insightRows.js';

/** What postgresStore's insight parts share: table names, queries, transactions. */
export interface PostgresContext {
  /** A table's name in the store's schema. */
  t(table: string): string;
  query<R extends QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Runs `work` on one connection inside BEGIN … COMMIT (ROLLBACK when it throws). */
  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T>;
}

/** The hourly rollup's columns, by their name in HourRow. */
export const HOUR_COLUMNS = {
  messages: 'messages',
  sent: 'sent',
  delivered: 'delivered',
  shown: 'shown',
  clicked: 'clicked',
  closed: 'closed',
  workerFailed: 'worker_failed',
  subscribed: 'subscribed',
  unsubscribed: 'unsubscribed',
} as const;

export type HourColumn = keyof typeof HOUR_COLUMNS;

/** One addition to the hourly rollup. */
export interface HourAddition {
  at: number;
  column: HourColumn;
  n: number;
}

/**
 * Adds to the hourly rollup in one statement, inside the caller's transaction. Rows go in
 * hour order, so two transactions touching the same hours lock them in the same order.
 */
export async function addToHours(client: PoolClient, t: (table: string) => string, additions: HourAddition[]): Promise<void> {
  const byHour = new Map<number, Record<HourColumn, number>>();
  for (const { at, column, n } of additions) {
    if (n === 0) continue;
    const hour = hourOf(at);
    let row = byHour.get(hour);
    if (!row) byHour.set(hour, (row = Object.fromEntries(Object.keys(HOUR_COLUMNS).map((name) => [name, 0])) as Record<HourColumn, number>));
    row[column] += n;
  }
  if (byHour.size === 0) return;
  const hours = [...byHour.keys()].sort((a, b) => a - b);
  const names = Object.keys(HOUR_COLUMNS) as HourColumn[];
  const columns = names.map((name) => HOUR_COLUMNS[name]);
  await client.query(
    `INSERT INTO ${t('hourly_stats')} (hour, ${columns.join(', ')})
     SELECT * FROM unnest($1::bigint[], ${columns.map((_, i) => `$${i + 2}::bigint[]`).join(', ')})
     ON CONFLICT (hour) DO UPDATE SET ${columns.map((c) => `${c} = ${t('hourly_stats')}.${c} + excluded.${c}`).join(', ')}`,
    [hours, ...names.map((name) => hours.map((hour) => byHour.get(hour)![name]))],
  );
}

/** An hourly_stats row (BIGINT comes back as text) as HourRow. */
export function hourRow(row: Record<string, string>): HourRow {
  const out = { hour: Number(row.hour) } as HourRow;
  for (const [name, column] of Object.entries(HOUR_COLUMNS)) out[name as HourColumn] = Number(row[column] ?? 0);
  return out;
}
