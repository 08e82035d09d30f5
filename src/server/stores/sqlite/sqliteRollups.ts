import type BetterSqlite3 from 'better-sqlite3';
import { hourOf, type EventColumns, type HourRow } from '../insightRows.js';

/** The hourly rollup's columns, by their name in HourRow. */
const HOUR_COLUMNS = {
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

/** The message rollup's event columns. */
export const EVENT_COLUMNS: Record<keyof EventColumns, string> = {
  delivered: 'delivered',
  shown: 'shown',
  clicked: 'clicked',
  closed: 'closed',
  workerFailed: 'worker_failed',
};

/** Adds to the hourly rollup; the caller's transaction holds it together with what it counts. */
export interface SqliteRollups {
  addToHour(at: number, column: HourColumn, n: number): void;
}

export function sqliteRollups(db: BetterSqlite3.Database): SqliteRollups {
  const statements = Object.fromEntries(
    Object.entries(HOUR_COLUMNS).map(([name, column]) => [
      name,
      db.prepare(`INSERT INTO hourly_stats (hour, ${column}) VALUES (?, ?) ON CONFLICT(hour) DO UPDATE SET ${column} = ${column} + excluded.${column}`),
    ]),
  ) as Record<HourColumn, BetterSqlite3.Statement>;
  return {
    addToHour(at, column, n) {
      if (n !== 0) statements[column].run(hourOf(at), n);
    },
  };
}

/** An hourly_stats row as HourRow. */
export function hourRow(row: Record<string, number>): HourRow {
  const out = { hour: row.hour } as HourRow;
  for (const [name, column] of Object.entries(HOUR_COLUMNS)) out[name as HourColumn] = row[column] ?? 0;
  return out;
}
