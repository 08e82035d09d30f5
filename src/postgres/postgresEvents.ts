import type { TidingsEvent } from '../shared/protocol.js';
import { countedColumn, type CountedEvent, type EventBatch, type EventColumns, type RecordedEvents } from '../server/stores/insightRows.js';
import { addToHours, type HourAddition, type PostgresContext } from './postgresRollups.js';

const EVENT_COLUMNS: Record<keyof EventColumns, string> = {
  delivered: 'delivered',
  shown: 'shown',
  clicked: 'clicked',
  closed: 'closed',
  workerFailed: 'worker_failed',
};

/**
 * postgresStore's events: a batch's raw events and the rollups they add to in one
 * transaction of a few statements, whatever the batch's size (see
 * SubscriptionStore.recordEvents for what counts).
 */
export function postgresEvents({ t, query, transaction }: PostgresContext) {
  const insertRaw = `INSERT INTO ${t('events')} (id, type, message_id, at, body, subscription_id)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::jsonb[], $6::text[])
    ON CONFLICT (id) DO NOTHING RETURNING id`;
  const rawParams = (list: TidingsEvent[], subscriptionId: string | null) => [
    list.map((e) => e.id),
    list.map((e) => e.type),
    list.map((e) => e.messageId ?? null),
    list.map((e) => e.at),
    list.map((e) => JSON.stringify(e)),
    list.map(() => subscriptionId),
  ];

  return {
    async addEvents(list: TidingsEvent[]): Promise<number> {
      if (list.length === 0) return 0;
      return (await query(insertRaw, rawParams(list, null))).rowCount ?? 0;
    },

    async recordEvents(batch: EventBatch): Promise<RecordedEvents> {
      const result: RecordedEvents = { stored: 0, counted: [] };
      if (batch.events.length === 0) return result;
      return transaction(async (client) => {
        let subscription: { id: string; service: string | null; browser: string | null } | undefined;
        if (batch.subscriptionId !== undefined) {
          // FOR SHARE: the subscription cannot be deleted until this batch is counted.
          subscription = (await client.query(`SELECT id, service, browser FROM ${t('subscriptions')} WHERE id = $1 FOR SHARE`, [batch.subscriptionId])).rows[0];
        }
        const { rows: inserted } = await client.query<{ id: string }>(insertRaw, rawParams(batch.events, subscription?.id ?? null));
        result.stored = inserted.length;
        // Verified by a subscription deleted since: stored as it came, counted nowhere.
        if (batch.subscriptionId !== undefined && !subscription) return result;
        const fresh = new Set(inserted.map((row) => row.id));
        let candidates = batch.events.filter((e) => fresh.has(e.id) && countedColumn(e, batch.countSince));
        if (candidates.length === 0) return result;
        const messageIds = [...new Set(candidates.map((e) => e.messageId!))];
        const { rows: known } = await client.query<{ id: string }>(`SELECT id FROM ${t('sends')} WHERE id = ANY($1::text[])`, [messageIds]);
        const inLog = new Set(known.map((row) => row.id));
        candidates = candidates.filter((e) => inLog.has(e.messageId!));
        if (candidates.length === 0) return result;

        const service = subscription ? (subscription.service ?? 'other') : '';
        const browser = subscription ? (subscription.browser ?? 'unknown') : '';
        let counted = candidates;
        if (subscription) {
          // Each (message, subscription, type) once: a batch naming one twice counts the first.
          const seen = new Set<string>();
          counted = candidates.filter((e) => !seen.has(`${e.messageId}\u0000${e.type}`) && seen.add(`${e.messageId}\u0000${e.type}`));
          // Firefox's close after a click is no dismissal (see SubscriptionStore.recordEvents):
          // a close is left out when its message's click is counted already, or comes before
          // it in this batch (the other stores count a batch in its order).
          const closing = counted.filter((e) => e.type === 'closed').map((e) => e.messageId!);
          if (closing.length > 0) {
            const { rows: clicks } = await client.query<{ message_id: string }>(
              `SELECT message_id FROM ${t('counted_events')} WHERE subscription_id = $1 AND type = 'clicked' AND message_id = ANY($2::text[])`,
              [subscription.id, closing],
            );
            const clicked = new Set(clicks.map((row) => row.message_id));
            counted = counted.filter((e) => {
              if (e.type === 'clicked') clicked.add(e.messageId!);
              return e.type !== 'closed' || !clicked.has(e.messageId!);
            });
          }
          const { rows: first } = await client.query<{ message_id: string; type: string }>(
            `INSERT INTO ${t('counted_events')} (message_id, subscription_id, type, at)
             SELECT m, $2, ty, a FROM unnest($1::text[], $3::text[], $4::bigint[]) AS u(m, ty, a)
             ON CONFLICT DO NOTHING RETURNING message_id, type`,
            [counted.map((e) => e.messageId), subscription.id, counted.map((e) => e.type), counted.map((e) => e.at)],
          );
          const firsts = new Set(first.map((row) => `${row.message_id}\u0000${row.type}`));
          counted = counted.filter((e) => firsts.has(`${e.messageId}\u0000${e.type}`));
        }
        if (counted.length === 0) return result;

        // One row per message, in message order (locks taken alike by every batch).
        const perMessage = new Map<string, Record<keyof EventColumns, number>>();
        for (const e of counted) {
          let row = perMessage.get(e.messageId!);
          if (!row) perMessage.set(e.messageId!, (row = { delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0 }));
          row[countedColumn(e, batch.countSince)!]++;
        }
        const ids = [...perMessage.keys()].sort();
        const names = Object.keys(EVENT_COLUMNS) as (keyof EventColumns)[];
        const columns = names.map((name) => EVENT_COLUMNS[name]);
        await client.query(
          `INSERT INTO ${t('message_events')} (message_id, verified, service, browser, ${columns.join(', ')})
           SELECT m, $2, $3, $4, ${columns.map((c) => c).join(', ')}
           FROM unnest($1::text[], ${names.map((_, i) => `$${i + 5}::bigint[]`).join(', ')}) AS u(m, ${columns.join(', ')})
           ON CONFLICT (message_id, verified, service, browser) DO UPDATE SET
             ${columns.map((c) => `${c} = ${t('message_events')}.${c} + excluded.${c}`).join(', ')}`,
          [ids, subscription !== undefined, service, browser, ...names.map((name) => ids.map((id) => perMessage.get(id)![name]))],
        );
        if (!subscription) return result;
        await addToHours(client, t, counted.map((e): HourAddition => ({ at: e.at, column: countedColumn(e, batch.countSince)!, n: 1 })));
        result.counted = counted.map((e) => ({ event: e as CountedEvent['event'], subscriptionId: subscription.id, service, browser }));
        return result;
      });
    },

    async deleteEventsBefore(before: number): Promise<number> {
      await query(`DELETE FROM ${t('counted_events')} WHERE at < $1`, [before]);
      return (await query(`DELETE FROM ${t('events')} WHERE at < $1`, [before])).rowCount ?? 0;
    },
  };
}
