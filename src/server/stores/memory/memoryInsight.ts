import type { TidingsEvent } from '../../../shared/protocol.js';
import { pushServiceOf } from '../../stats/classify.js';
import type { SendRecord } from '../../stats/statsTypes.js';
import {
  byCount,
  countedColumn,
  hourOf,
  type CountedEvent,
  type EventBatch,
  type HourRow,
  type MessageEventRow,
  type RecordedEvents,
  type SendListQuery,
  type SendUpdate,
  type SendUpdated,
  type StoredSend,
  type SubscriberCounts,
  type SubscriberCountsQuery,
} from '../insightRows.js';
import { mergeSendUpdate } from '../mergeSendUpdate.js';
import type { StoredSubscription } from '../SubscriptionStore.js';

/**
 * memoryStore's send log and rollups (the SubscriptionStore methods of insight), over the
 * store's own maps. Every method runs without an await before its last write, so each is
 * atomic in one process, as a transaction would be.
 */
export function memoryInsight(subscriptions: Map<string, StoredSubscription>) {
  const sends = new Map<string, StoredSend>();
  /** (message, subscription, type) counted once: when, for retention. */
  const counted = new Map<string, number>();
  const messageRows = new Map<string, MessageEventRow>();
  const hours = new Map<number, HourRow>();

  const hour = (at: number): HourRow => {
    const key = hourOf(at);
    let row = hours.get(key);
    if (!row) {
      row = { hour: key, messages: 0, sent: 0, delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0, subscribed: 0, unsubscribed: 0 };
      hours.set(key, row);
    }
    return row;
  };
  const messageRow = (messageId: string, verified: boolean, service: string, browser: string): MessageEventRow => {
    const key = JSON.stringify([messageId, verified, service, browser]);
    let row = messageRows.get(key);
    if (!row) {
      row = { messageId, verified, service, browser, delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0 };
      messageRows.set(key, row);
    }
    return row;
  };

  return {
    /** Counts created and removed subscriptions into the current hour. */
    subscriptionsChanged(created: number, removed: number): void {
      if (created === 0 && removed === 0) return;
      const row = hour(Date.now());
      row.subscribed += created;
      row.unsubscribed += removed;
    },

    /** Forgets what counted events older than `before` kept (retention). */
    forgetCountedBefore(before: number): void {
      for (const [key, at] of counted) if (at < before) counted.delete(key);
    },

    /** recordEvents after the raw events are stored: `fresh` are those that were new. */
    countEvents(batch: EventBatch, fresh: TidingsEvent[]): RecordedEvents {
      const result: RecordedEvents = { stored: fresh.length, counted: [] };
      const subscription = batch.subscriptionId === undefined ? undefined : subscriptions.get(batch.subscriptionId);
      if (batch.subscriptionId !== undefined && !subscription) return result;
      for (const event of fresh) {
        const column = countedColumn(event, batch.countSince);
        if (!column || !sends.has(event.messageId!)) continue;
        if (!subscription) {
          messageRow(event.messageId!, false, '', '')[column]++;
          continue;
        }
        const key = JSON.stringify([event.messageId, subscription.id, event.type]);
        // Firefox's close after a click is no dismissal (see SubscriptionStore.recordEvents).
        if (counted.has(key) || (event.type === 'closed' && counted.has(JSON.stringify([event.messageId, subscription.id, 'clicked'])))) continue;
        counted.set(key, event.at);
        const service = pushServiceOf(subscription.subscription.endpoint);
        const browser = subscription.browser ?? 'unknown';
        messageRow(event.messageId!, true, service, browser)[column]++;
        hour(event.at)[column]++;
        result.counted.push({ event: { ...event } as CountedEvent['event'], subscriptionId: subscription.id, service, browser });
      }
      return result;
    },

    async createSend(record: SendRecord) {
      if (sends.has(record.id)) return false;
      sends.set(record.id, { ...structuredClone(record), services: {} });
      if (record.startedAt !== undefined) hour(record.startedAt).messages++;
      return true;
    },
    async updateSend(id: string, update: SendUpdate): Promise<SendUpdated | undefined> {
      const stored = sends.get(id);
      if (!stored) return undefined;
      const merged = mergeSendUpdate(stored, update);
      sends.set(id, merged.send);
      if (merged.sentGrew > 0) hour(Date.now()).sent += merged.sentGrew;
      if (merged.started) hour(merged.send.startedAt!).messages++;
      return { send: structuredClone(merged.send), finished: merged.finished };
    },
    async getSend(id: string) {
      const send = sends.get(id);
      return send && structuredClone(send);
    },
    async listSends({ since, until, limit, before }: SendListQuery) {
      return [...sends.values()]
        .filter((send) => (since === undefined || send.createdAt >= since) && (until === undefined || send.createdAt < until))
        .filter((send) => !before || send.createdAt < before.createdAt || (send.createdAt === before.createdAt && send.id < before.id))
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .slice(0, limit)
        .map((send) => structuredClone(send));
    },
    async markSent(ids: string[], at: number) {
      for (const id of ids) {
        const entry = subscriptions.get(id);
        if (entry) entry.lastSentAt = at;
      }
    },
    async messageEvents(messageIds: string[]) {
      const wanted = new Set(messageIds);
      return [...messageRows.values()].filter((row) => wanted.has(row.messageId)).map((row) => ({ ...row }));
    },
    async hourlyStats(since: number, until: number) {
      return [...hours.values()].filter((row) => row.hour >= since && row.hour < until).sort((a, b) => a.hour - b.hour).map((row) => ({ ...row }));
    },
    async subscriberCounts(query: SubscriberCountsQuery = {}): Promise<SubscriberCounts> {
      const answer: SubscriberCounts = { total: subscriptions.size, byService: {}, byBrowser: {} };
      const values = new Map<string, { value: string | number | boolean; count: number }>();
      let none = 0;
      for (const entry of subscriptions.values()) {
        const service = pushServiceOf(entry.subscription.endpoint);
        const browser = entry.browser ?? 'unknown';
        answer.byService[service] = (answer.byService[service] ?? 0) + 1;
        answer.byBrowser[browser] = (answer.byBrowser[browser] ?? 0) + 1;
        if (query.by === undefined) continue;
        if (!Object.hasOwn(entry.attributes, query.by)) {
          none++;
          continue;
        }
        const value = entry.attributes[query.by]!;
        // Typed: '7' and 7 are two values, as audiences tell them apart.
        const key = JSON.stringify(value);
        const row = values.get(key) ?? { value, count: 0 };
        row.count++;
        values.set(key, row);
      }
      if (query.by !== undefined) {
        const sorted = [...values.values()].sort(byCount);
        const top = sorted.slice(0, query.top ?? 100);
        const listed = top.reduce((sum, row) => sum + row.count, 0);
        answer.byAttribute = { values: top, other: subscriptions.size - none - listed, none };
      }
      return answer;
    },
  };
}
