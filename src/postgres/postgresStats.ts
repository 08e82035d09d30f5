import type { MessageEventRow, SubscriberCounts, SubscriberCountsQuery } from '../server/stores/insightRows.js';
import { hourRow, type PostgresContext } from './postgresRollups.js';

/** What postgresStore reads for the stats: rollup rows and grouped counts, never raw events. */
export function postgresStats({ t, query, transaction }: PostgresContext) {
  return {
    async messageEvents(messageIds: string[]): Promise<MessageEventRow[]> {
      if (messageIds.length === 0) return [];
      const { rows } = await query<Record<string, string> & { verified: boolean }>(`SELECT * FROM ${t('message_events')} WHERE message_id = ANY($1::text[])`, [messageIds]);
      return rows.map((row) => ({
        messageId: row.message_id!,
        verified: row.verified,
        service: row.service!,
        browser: row.browser!,
        delivered: Number(row.delivered),
        shown: Number(row.shown),
        clicked: Number(row.clicked),
        closed: Number(row.closed),
        workerFailed: Number(row.worker_failed),
      }));
    },
    async hourlyStats(since: number, until: number) {
      const { rows } = await query<Record<string, string>>(`SELECT * FROM ${t('hourly_stats')} WHERE hour >= $1 AND hour < $2 ORDER BY hour`, [since, until]);
      return rows.map(hourRow);
    },
    async subscriberCounts(filter: SubscriberCountsQuery = {}): Promise<SubscriberCounts> {
      // REPEATABLE READ: the groups and the attribute's values are read from one snapshot.
      return transaction(async (client) => {
        await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        const { rows: groups } = await client.query<{ service: string | null; browser: string | null; n: string }>(
          `SELECT service, browser, count(*) AS n FROM ${t('subscriptions')} GROUP BY service, browser`,
        );
        const answer: SubscriberCounts = { total: 0, byService: {}, byBrowser: {} };
        for (const { service, browser, n } of groups) {
          const s = service ?? 'other';
          const b = browser ?? 'unknown';
          answer.total += Number(n);
          answer.byService[s] = (answer.byService[s] ?? 0) + Number(n);
          answer.byBrowser[b] = (answer.byBrowser[b] ?? 0) + Number(n);
        }
        if (filter.by !== undefined) {
          // The values' JSON text orders ties, as in every store; the window sums every value's count.
          const { rows } = await client.query<{ value: string | number | boolean; n: string; with_key: string }>(
            `WITH counted AS (
               SELECT attributes -> $1 AS value, count(*) AS n FROM ${t('subscriptions')} WHERE attributes ? $1 GROUP BY 1
             )
             SELECT value, n, sum(n) OVER () AS with_key FROM counted ORDER BY n DESC, value::text COLLATE "C" LIMIT $2`,
            [filter.by, filter.top ?? 100],
          );
          const withKey = Number(rows[0]?.with_key ?? 0);
          const values = rows.map(({ value, n }) => ({ value, count: Number(n) }));
          const listed = values.reduce((sum, row) => sum + row.count, 0);
          answer.byAttribute = { values, other: withKey - listed, none: answer.total - withKey };
        }
        return answer;
      });
    },
    async markSent(ids: string[], at: number): Promise<void> {
      if (ids.length > 0) await query(`UPDATE ${t('subscriptions')} SET last_sent_at = $1 WHERE id = ANY($2::text[])`, [at, ids]);
    },
  };
}
