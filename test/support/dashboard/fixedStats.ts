// TEST SUPPORT ONLY: a PushStats (the insight contract) over fixed data, for the tests
// about rendering what strangers wrote (hostileStats in dashboardFixture.ts): titles,
// samples, attribute keys and service names no real store would hold all at once. It
// computes nothing: it hands back what it was given. Every test of figures reads the
// real stats (push.stats over a store; sampleMonth.ts seeds one).
import type { EventCounts, MessageStats, PushStats, SendTarget, SubscriberStats, SubscriptionSummary, TimelinePoint } from '../../../src/dashboard/statsContract.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export interface FixedStatsData {
  /** Newest first. */
  messages: MessageStats[];
  subscribers: SubscriberStats;
  /** By attribute key: the byAttribute answer for `subscribers({ by })`. */
  byAttribute?: Record<string, NonNullable<SubscriberStats['byAttribute']>>;
  subscriptions: SubscriptionSummary[];
  /** Events of the bucket starting at `at` (default: zeros). */
  bucket?: (at: number, bucket: 'hour' | 'day') => Partial<TimelinePoint>;
}

/** Answers the PushStats calls from `data`; each call is recorded in `calls`. */
export function fixedStats(data: FixedStatsData): PushStats & { calls: { method: string; query: unknown }[] } {
  const calls: { method: string; query: unknown }[] = [];
  return {
    calls,
    async message(id) {
      calls.push({ method: 'message', query: id });
      return data.messages.find((m) => m.id === id);
    },
    async messages(query = {}) {
      calls.push({ method: 'messages', query });
      const start = query.after ? Number(query.after) : 0;
      const limit = query.limit ?? 50;
      const items = data.messages.slice(start, start + limit);
      return start + limit < data.messages.length ? { items, next: String(start + limit) } : { items };
    },
    async timeline(query) {
      calls.push({ method: 'timeline', query });
      const step = query.bucket === 'hour' ? HOUR : DAY;
      const until = query.until ?? Date.now();
      const points: TimelinePoint[] = [];
      for (let at = Math.floor(query.since / step) * step; at <= until; at += step) {
        points.push({ at, messages: 0, sent: 0, delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0, subscribed: 0, unsubscribed: 0, ...data.bucket?.(at, query.bucket) });
      }
      return { bucket: query.bucket, points };
    },
    async subscribers(query = {}) {
      calls.push({ method: 'subscribers', query });
      const answer: SubscriberStats = { ...data.subscribers };
      const byAttribute = query.by ? data.byAttribute?.[query.by] : undefined;
      if (byAttribute) answer.byAttribute = byAttribute;
      return answer;
    },
    async subscriptions(query) {
      calls.push({ method: 'subscriptions', query });
      const items = data.subscriptions.filter((s) => matches(s, query.to));
      return { items: items.slice(0, query.limit ?? 50) };
    },
  };
}

/** Exact or any-of attribute matches only: what the fixtures need. */
function matches(subscription: SubscriptionSummary, to: SendTarget | undefined): boolean {
  if (to === undefined || typeof to === 'string' || Array.isArray(to)) return true;
  return Object.entries(to.attributes ?? {}).every(([key, match]) => {
    const value = subscription.attributes[key];
    return Array.isArray(match) ? match.includes(value as never) : value === match;
  });
}

export const noEvents: EventCounts = { delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0 };

/** A finished message with the given funnel and texts, filling the rest. */
export function fixedMessage(fields: Partial<MessageStats> & { id: string }): MessageStats {
  return {
    title: 'A message',
    envelope: { v: 1, id: fields.id, notification: { title: fields.title ?? 'A message' } },
    audience: null,
    options: {},
    via: 'send',
    state: 'done',
    createdAt: Date.UTC(2026, 5, 1, 9),
    startedAt: Date.UTC(2026, 5, 1, 9),
    finishedAt: Date.UTC(2026, 5, 1, 9, 1),
    targeted: 0,
    sent: 0,
    gone: 0,
    failed: 0,
    pruned: 0,
    capped: 0,
    deferred: 0,
    failures: [],
    ...noEvents,
    clickRate: null,
    closeRate: null,
    byService: {},
    byBrowser: {},
    unverified: noEvents,
    errors: [],
    ...fields,
  };
}
