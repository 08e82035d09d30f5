import type BetterSqlite3 from 'better-sqlite3';
import type { MessageEventRow, SubscriberCounts, SubscriberCountsQuery } from '../insightRows.js';
import { hourRow } from './sqliteRollups.js';

interface MessageEventsRow {
  message_id: string;
  verified: number;
  service: string;
  browser: string;
  delivered: number;
  shown: number;
  clicked: number;
  closed: number;
  worker_failed: number;
}

/** What sqliteStore reads for the stats: rollup rows and counts over indexes, never raw events. */
export function sqliteStats(db: BetterSqlite3.Database) {
  const statements = {
    messageEvents: db.prepare<[string], MessageEventsRow>('SELECT * FROM message_events WHERE message_id IN (SELECT value FROM json_each(?))'),
    hours: db.prepare<[number, number], Record<string, number>>('SELECT * FROM hourly_stats WHERE hour >= ? AND hour < ? ORDER BY hour'),
    total: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM subscriptions'),
    // One pass over the (service, browser) index gives both groupings.
    groups: db.prepare<[], { service: string | null; browser: string | null; n: number }>('SELECT service, browser, count(*) AS n FROM subscriptions GROUP BY service, browser'),
    withKey: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM subscription_attributes WHERE key = ?'),
    topValues: db.prepare<[string, number], { value: string; n: number }>(
      'SELECT value, count(*) AS n FROM subscription_attributes WHERE key = ? GROUP BY value ORDER BY n DESC, value LIMIT ?',
    ),
    markSent: db.prepare('UPDATE subscriptions SET last_sent_at = ? WHERE id IN (SELECT value FROM json_each(?))'),
  };

  return {
    async messageEvents(messageIds: string[]): Promise<MessageEventRow[]> {
      if (messageIds.length === 0) return [];
      return statements.messageEvents.all(JSON.stringify(messageIds)).map((row) => ({
        messageId: row.message_id,
        verified: row.verified === 1,
        service: row.service,
        browser: row.browser,
        delivered: row.delivered,
        shown: row.shown,
        clicked: row.clicked,
        closed: row.closed,
        workerFailed: row.worker_failed,
      }));
    },
    async hourlyStats(since: number, until: number) {
      return statements.hours.all(since, until).map(hourRow);
    },
    async subscriberCounts(query: SubscriberCountsQuery = {}): Promise<SubscriberCounts> {
      const read = db.transaction(() => {
        const answer: SubscriberCounts = { total: statements.total.get()!.n, byService: {}, byBrowser: {} };
        for (const { service, browser, n } of statements.groups.all()) {
          const s = service ?? 'other';
          const b = browser ?? 'unknown';
          answer.byService[s] = (answer.byService[s] ?? 0) + n;
          answer.byBrowser[b] = (answer.byBrowser[b] ?? 0) + n;
        }
        if (query.by !== undefined) {
          const withKey = statements.withKey.get(query.by)!.n;
          // Values are stored as JSON text, so equal text is the same typed value.
          const values = statements.topValues.all(query.by, query.top ?? 100).map(({ value, n }) => ({ value: JSON.parse(value) as string | number | boolean, count: n }));
          const listed = values.reduce((sum, row) => sum + row.count, 0);
          answer.byAttribute = { values, other: withKey - listed, none: answer.total - withKey };
        }
        return answer;
      });
      // One read transaction: the counts agree with each other.
      return read.deferred();
    },
    async markSent(ids: string[], at: number) {
      if (ids.length > 0) statements.markSent.run(at, JSON.stringify(ids));
    },
  };
}
