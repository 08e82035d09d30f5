import type { SendRecord } from '../server/stats/statsTypes.js';
import type { SendListQuery, SendUpdate, SendUpdated, StoredSend } from '../server/stores/insightRows.js';
import { mergeSendUpdate } from '../server/stores/mergeSendUpdate.js';
import { addToHours, type HourAddition, type PostgresContext } from './postgresRollups.js';

/**
 * postgresStore's send log: a row per send, the record as JSONB beside the columns it is
 * looked up by. An update locks its row (FOR UPDATE), merges by mergeSendUpdate's rules
 * and writes it with the hourly rollup in one transaction, so updates from any number of
 * senders apply one after another.
 */
export function postgresSendLog({ t, query, transaction }: PostgresContext) {
  return {
    async createSend(record: SendRecord): Promise<boolean> {
      const stored: StoredSend = { ...record, services: {} };
      return transaction(async (client) => {
        const inserted = await client.query(
          `INSERT INTO ${t('sends')} (id, created_at, state, scheduled_at, record) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
          [record.id, record.createdAt, record.state, record.scheduledAt ?? null, JSON.stringify(stored)],
        );
        if (inserted.rowCount !== 1) return false;
        if (record.startedAt !== undefined) await addToHours(client, t, [{ at: record.startedAt, column: 'messages', n: 1 }]);
        return true;
      });
    },
    async updateSend(id: string, change: SendUpdate): Promise<SendUpdated | undefined> {
      return transaction(async (client) => {
        const { rows } = await client.query<{ record: StoredSend }>(`SELECT record FROM ${t('sends')} WHERE id = $1 FOR UPDATE`, [id]);
        if (!rows[0]) return undefined;
        const merged = mergeSendUpdate(rows[0].record, change);
        await client.query(`UPDATE ${t('sends')} SET state = $2, record = $3 WHERE id = $1`, [id, merged.send.state, JSON.stringify(merged.send)]);
        const additions: HourAddition[] = [{ at: Date.now(), column: 'sent', n: merged.sentGrew }];
        if (merged.started) additions.push({ at: merged.send.startedAt!, column: 'messages', n: 1 });
        await addToHours(client, t, additions);
        return { send: merged.send, finished: merged.finished };
      });
    },
    async getSend(id: string): Promise<StoredSend | undefined> {
      const { rows } = await query<{ record: StoredSend }>(`SELECT record FROM ${t('sends')} WHERE id = $1`, [id]);
      return rows[0]?.record;
    },
    async listSends({ since, until, limit, before }: SendListQuery): Promise<StoredSend[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (since !== undefined) {
        params.push(since);
        where.push(`created_at >= $${params.length}`);
      }
      if (until !== undefined) {
        params.push(until);
        where.push(`created_at < $${params.length}`);
      }
      // Keyset: the index on (created_at, id) read backwards from the last row of the page before.
      if (before) {
        params.push(before.createdAt, before.id);
        where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
      }
      params.push(limit);
      const sql = `SELECT record FROM ${t('sends')} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`;
      return (await query<{ record: StoredSend }>(sql, params)).rows.map((row) => row.record);
    },
  };
}
