// TEST SUPPORT ONLY: a PushStats (the insight contract, issue 19) over fixed data, so the
// dashboard's data routes and pages can be tested before the real stats exist. It computes
// nothing the real stats would (no send log, no events): it hands back what it was given.
// When issue 19 lands, the tests move to the real server and this file goes.
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

/**
 * A plausible month of a small site (for screenshots and page tests): daily sends, events
 * with a click rate near 4%, subscribers growing, a few messages with failures.
 */
export function sampleStats(now = Date.now()) {
  const day = (i: number) => Math.floor(now / DAY) * DAY - i * DAY;
  const wave = (at: number, base: number, spread: number) => Math.round(base + spread * Math.sin(at / DAY / 2.3));
  const titles = ['Your order has shipped', 'New reply in "Weekend plans"', 'Flash sale: 20% off today', 'Weekly digest', 'Server maintenance tonight', 'Welcome aboard'];
  const messages = titles.map((title, i) => {
    const targeted = 1200 - i * 150;
    const sent = targeted - 12 - i * 3;
    const shown = Math.round(sent * 0.93);
    const clicked = Math.round(shown * (0.06 - i * 0.008));
    return fixedMessage({
      id: `msg-${i}`,
      title,
      url: `/articles/${40 + i}`,
      by: i % 2 ? 'ann@example.com' : 'bob@example.com',
      via: i % 3 ? 'send' : 'queue',
      createdAt: now - (i + 1) * 26 * 3_600_000,
      startedAt: now - (i + 1) * 26 * 3_600_000,
      finishedAt: now - (i + 1) * 26 * 3_600_000 + 40_000,
      envelope: { v: 1, id: `msg-${i}`, notification: { title, body: 'Tap to read more.', url: `/articles/${40 + i}` } },
      audience: i % 2 ? { attributes: { team: 'red' } } : null,
      targeted,
      sent,
      gone: 8,
      failed: 4 + i * 3,
      delivered: Math.round(sent * 0.96),
      shown,
      clicked,
      closed: Math.round(shown * 0.11),
      clickRate: clicked / shown,
      closeRate: 0.11,
      byService: {
        fcm: { sent: Math.round(sent * 0.7), gone: 6, failed: 3, delivered: Math.round(sent * 0.67), shown: Math.round(shown * 0.7), clicked: Math.round(clicked * 0.7), closed: 40, workerFailed: 0 },
        mozilla: { sent: Math.round(sent * 0.3), gone: 2, failed: 1 + i * 3, delivered: Math.round(sent * 0.29), shown: Math.round(shown * 0.3), clicked: Math.round(clicked * 0.3), closed: 15, workerFailed: 1 },
      },
      byBrowser: {
        chrome: { delivered: Math.round(sent * 0.6), shown: Math.round(shown * 0.6), clicked: Math.round(clicked * 0.6), closed: 35, workerFailed: 0 },
        firefox: { delivered: Math.round(sent * 0.3), shown: Math.round(shown * 0.3), clicked: Math.round(clicked * 0.3), closed: 15, workerFailed: 1 },
        edge: { delivered: Math.round(sent * 0.06), shown: Math.round(shown * 0.1), clicked: Math.round(clicked * 0.1), closed: 5, workerFailed: 0 },
      },
      errors: [
        { cause: 'http-5xx', host: 'updates.push.services.mozilla.com', count: 1 + i * 3, sample: '503 Service Unavailable' },
        { cause: 'timeout', host: 'fcm.googleapis.com', count: 3, sample: 'no answer in 10000 ms' },
      ],
    });
  });
  let total = 900;
  const daily = Array.from({ length: 31 }, (_, k) => {
    const at = day(30 - k);
    const created = wave(at, 14, 6);
    const removed = wave(at + 3 * DAY, 4, 2);
    total += created - removed;
    return { day: at, created, removed, total };
  });
  return fixedStats({
    messages,
    subscribers: {
      total,
      byService: { fcm: Math.round(total * 0.68), mozilla: Math.round(total * 0.27), apple: total - Math.round(total * 0.68) - Math.round(total * 0.27) },
      byBrowser: { chrome: Math.round(total * 0.55), firefox: Math.round(total * 0.27), edge: Math.round(total * 0.13), safari: total - Math.round(total * 0.55) - Math.round(total * 0.27) - Math.round(total * 0.13) },
      daily,
    },
    byAttribute: { team: { key: 'team', values: [{ value: 'red', count: 520 }, { value: 'blue', count: 410 }, { value: 'green', count: 77 }], other: 0, none: total - 1007 } },
    subscriptions: [
      { id: 's1', service: 'fcm', browser: 'chrome', host: 'fcm.googleapis.com', attributes: { user: '42', team: 'red' }, createdAt: now - 20 * DAY, updatedAt: now - 2 * DAY, lastSentAt: now - DAY },
      { id: 's2', service: 'mozilla', browser: 'firefox', host: 'updates.push.services.mozilla.com', attributes: { user: '42', team: 'red' }, createdAt: now - 5 * DAY, updatedAt: now - 5 * DAY, failingSince: now - 3 * DAY },
    ],
    bucket: (at, bucket) => {
      const scale = bucket === 'hour' ? 1 / 24 : 1;
      const sent = Math.round(wave(at, 900, 400) * scale);
      const shown = Math.round(sent * 0.92);
      return { messages: Math.max(1, Math.round(wave(at, 2, 1) * scale)), sent, delivered: Math.round(sent * 0.96), shown, clicked: Math.round(shown * 0.04), closed: Math.round(shown * 0.1), workerFailed: Math.round(sent * 0.002) };
    },
  });
}
