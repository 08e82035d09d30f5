import type BetterSqlite3 from 'better-sqlite3';
import type { TidingsEvent } from '../../../shared/protocol.js';
import { countedColumn, type CountedEvent, type EventBatch, type RecordedEvents } from '../insightRows.js';
import { EVENT_COLUMNS, type SqliteRollups } from './sqliteRollups.js';

/**
 * sqliteStore's events: raw events and the rollups they add to, in one IMMEDIATE
 * transaction per batch (see SubscriptionStore.recordEvents for what counts).
 */
export function sqliteEvents(db: BetterSqlite3.Database, rollups: SqliteRollups) {
  const statements = {
    insert: db.prepare('INSERT OR IGNORE INTO events (id, type, message_id, at, body, subscription_id) VALUES (?, ?, ?, ?, ?, ?)'),
    subscription: db.prepare<[string], { id: string; service: string | null; browser: string | null }>('SELECT id, service, browser FROM subscriptions WHERE id = ?'),
    sendExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM sends WHERE id = ?'),
    once: db.prepare('INSERT OR IGNORE INTO counted_events (message_id, subscription_id, type, at) VALUES (?, ?, ?, ?)'),
    clicked: db.prepare<[string, string], { one: number }>("SELECT 1 AS one FROM counted_events WHERE message_id = ? AND subscription_id = ? AND type = 'clicked'"),
    forget: db.prepare('DELETE FROM counted_events WHERE at < ?'),
    deleteEvents: db.prepare('DELETE FROM events WHERE at < ?'),
  };
  const addToMessage = Object.fromEntries(
    Object.entries(EVENT_COLUMNS).map(([name, column]) => [
      name,
      db.prepare(
        `INSERT INTO message_events (message_id, verified, service, browser, ${column}) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT DO UPDATE SET ${column} = ${column} + 1`,
      ),
    ]),
  ) as Record<keyof typeof EVENT_COLUMNS, BetterSqlite3.Statement>;

  const store = (event: TidingsEvent, subscriptionId: string | null): boolean =>
    statements.insert.run(event.id, event.type, event.messageId ?? null, event.at, JSON.stringify(event), subscriptionId).changes === 1;

  const record = db.transaction((batch: EventBatch): RecordedEvents => {
    const result: RecordedEvents = { stored: 0, counted: [] };
    const subscription = batch.subscriptionId === undefined ? undefined : statements.subscription.get(batch.subscriptionId);
    // Verified by a subscription deleted since: stored as it came, counted nowhere.
    const counting = batch.subscriptionId === undefined || subscription !== undefined;
    const sent = new Map<string, boolean>();
    const inLog = (messageId: string): boolean => {
      let known = sent.get(messageId);
      if (known === undefined) sent.set(messageId, (known = statements.sendExists.get(messageId) !== undefined));
      return known;
    };
    for (const event of batch.events) {
      if (!store(event, subscription?.id ?? null)) continue;
      result.stored++;
      const column = counting ? countedColumn(event, batch.countSince) : undefined;
      if (!column || !inLog(event.messageId!)) continue;
      if (!subscription) {
        addToMessage[column].run(event.messageId, 0, '', '');
        continue;
      }
      // Firefox's close after a click is no dismissal (see SubscriptionStore.recordEvents).
      if (event.type === 'closed' && statements.clicked.get(event.messageId!, subscription.id)) continue;
      if (statements.once.run(event.messageId, subscription.id, event.type, event.at).changes === 0) continue;
      const service = subscription.service ?? 'other';
      const browser = subscription.browser ?? 'unknown';
      addToMessage[column].run(event.messageId, 1, service, browser);
      rollups.addToHour(event.at, column, 1);
      result.counted.push({ event: event as CountedEvent['event'], subscriptionId: subscription.id, service, browser });
    }
    return result;
  });
  const addAll = db.transaction((list: TidingsEvent[]): number => list.filter((event) => store(event, null)).length);
  const deleteBefore = db.transaction((before: number): number => {
    statements.forget.run(before);
    return statements.deleteEvents.run(before).changes;
  });

  return {
    async addEvents(list: TidingsEvent[]) {
      return addAll.immediate(list);
    },
    async recordEvents(batch: EventBatch) {
      return record.immediate(batch);
    },
    async deleteEventsBefore(before: number) {
      return deleteBefore.immediate(before);
    },
  };
}
