import type { MessageEventRow, SubscriberCounts, SubscriberCountsQuery } from '../server/stores/insightRows.js';
import { hourRow, type PostgresContext } from './postgresRollups.js';

/** What postgresStore reads for the stats: rollup rows and grouped counts, never raw events. */
export function postgresStats({ t, query }: PostgresContext) {
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
      const { by } = filter;
      // Two queries on two connections at once, each one pass over the table: the groups
      // (with how many hold the key), and the key's values, grouped by their JSON text
      // (typed: '"7"' and '7' differ; hashing text is cheaper than hashing JSONB). Each is
      // consistent in itself; the two may be a moment apart, so `other` is kept >= 0.
      const [groups, values] = await Promise.all([
        query<{ service: string | null; browser: string | null; n: string; with_key: string | null }>(
          `SELECT service, browser, count(*) AS n, ${by === undefined ? 'NULL' : 'count(*) FILTER (WHERE attributes ? $1)'} AS with_key
           FROM ${t('subscriptions')} GROUP BY service, browser`,
          by === undefined ? [] : [by],
        ),
        by === undefined
          ? undefined
          : query<{ value: string; n: string }>(
              `SELECT (attributes -> $1)::text COLLATE "C" AS value, count(*) AS n FROM ${t('subscriptions')}
               WHERE attributes ? $1 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2`,
              [by, filter.top ?? 100],
            ),
      ]);
      const answer: SubscriberCounts = { total: 0, byService: {}, byBrowser: {} };
      let withKey = 0;
      for (const { service, browser, n, with_key } of groups.rows) {
        const s = service ?? 'other';
        const b = browser ?? 'unknown';
        answer.total += Number(n);
        withKey += Number(with_key ?? 0);
        answer.byService[s] = (answer.byService[s] ?? 0) + Number(n);
        answer.byBrowser[b] = (answer.byBrowser[b] ?? 0) + Number(n);
      }
      if (values) {
        const listed = values.rows.map(({ value, n }) => ({ value: JSON.parse(value) as string | number | boolean, count: Number(n) }));
        const sum = listed.reduce((total, row) => total + row.count, 0);
        answer.byAttribute = { values: listed, other: Math.max(0, withKey - sum), none: answer.total - withKey };
      }
      return answer;
    },
    async markSent(ids: string[], at: number): Promise<void> {
      if (ids.length > 0) await query(`UPDATE ${t('subscriptions')} SET last_sent_at = $1 WHERE id = ANY($2::text[])`, [at, ids]);
    },
  };
}
