import { invalidOption as invalid } from '../common/checkOptions.js';
import { attributeKeyProblem } from '../common/attributeRules.js';
import { toSubscriptionQuery } from '../audience/toSubscriptionQuery.js';
import { HOUR_MS, type MessageEventRow, type StoredSend } from '../stores/insightRows.js';
import type { StoredSubscription, SubscriptionStore } from '../stores/SubscriptionStore.js';
import { endpointHost, pushServiceOf } from './classify.js';
import type {
  EventCounts,
  MessagePage,
  MessageStats,
  MessageSummary,
  PushStats,
  SendRecord,
  SubscriberStats,
  SubscriptionSummary,
  Timeline,
  TimelinePoint,
} from './statsTypes.js';

const DAY_MS = 24 * HOUR_MS;
/** Points one timeline may have: 83 days of hours, five and a half years of days. */
export const MAX_BUCKETS = 2000;
/** Values of one attribute `subscribers({ by })` lists; the rest are summed in `other`. */
export const TOP_VALUES = 100;

/**
 * The stats of DESIGN.md's Insight over a store: each call reads the send log and the
 * rollups (a handful of rows, or grouped counts over an index), never raw events. Queries
 * are checked here; a bad one throws TidingsError `invalid-option` naming the field.
 */
export function createPushStats(store: SubscriptionStore): PushStats {
  return {
    async message(id) {
      if (typeof id !== 'string' || id.length === 0) invalid('id', 'must be a message id');
      const send = await store.getSend(id);
      if (!send) return undefined;
      return messageStats(send, await store.messageEvents([id]));
    },

    async messages(query = {}) {
      const since = time(query.since, 'since');
      const until = time(query.until, 'until');
      const limit = pageSize(query.limit);
      const before = query.after === undefined ? undefined : readCursor(query.after);
      const rows = await store.listSends({ limit: limit + 1, ...defined({ since, until, before }) });
      const page = rows.slice(0, limit);
      const events = await store.messageEvents(page.map((send) => send.id));
      const answer: MessagePage = { items: page.map((send) => summary(send, events)) };
      if (rows.length > limit) answer.next = cursor(page.at(-1)!);
      return answer;
    },

    async timeline(query) {
      if (!query || typeof query !== 'object') invalid('query', 'must be { since, until?, bucket }');
      const step = query.bucket === 'hour' ? HOUR_MS : query.bucket === 'day' ? DAY_MS : invalid('bucket', "must be 'hour' or 'day'");
      const since = time(query.since, 'since') ?? invalid('since', 'is required');
      const until = time(query.until, 'until') ?? Date.now();
      if (until <= since) invalid('until', 'must be after since');
      const start = Math.floor(since / step) * step;
      const count = Math.ceil((until - start) / step);
      if (count > MAX_BUCKETS) invalid('since', `asks for ${count} ${query.bucket}s; at most ${MAX_BUCKETS} per call`);
      const points: TimelinePoint[] = Array.from({ length: count }, (_, i) => ({
        at: start + i * step,
        messages: 0,
        sent: 0,
        delivered: 0,
        shown: 0,
        clicked: 0,
        closed: 0,
        workerFailed: 0,
        subscribed: 0,
        unsubscribed: 0,
      }));
      for (const row of await store.hourlyStats(start, start + count * step)) {
        const point = points[Math.floor((row.hour - start) / step)];
        if (!point) continue;
        for (const key of Object.keys(point) as (keyof TimelinePoint)[]) if (key !== 'at') point[key] += row[key];
      }
      return { bucket: query.bucket, points } satisfies Timeline;
    },

    async subscribers(query = {}) {
      const by = query.by;
      if (by !== undefined && (typeof by !== 'string' || attributeKeyProblem(by))) invalid('by', 'must be an attribute key');
      const now = Date.now();
      const firstDay = Math.floor((time(query.since, 'since') ?? now - 30 * DAY_MS) / DAY_MS) * DAY_MS;
      const days = Math.floor((now - firstDay) / DAY_MS) + 1;
      if (days > MAX_BUCKETS) invalid('since', `asks for ${days} days; at most ${MAX_BUCKETS}`);
      const [counts, hours] = await Promise.all([
        store.subscriberCounts(by === undefined ? {} : { by, top: TOP_VALUES }),
        store.hourlyStats(firstDay, firstDay + days * DAY_MS),
      ]);
      const daily = Array.from({ length: Math.max(days, 0) }, (_, i) => ({ day: firstDay + i * DAY_MS, created: 0, removed: 0, total: 0 }));
      for (const row of hours) {
        const day = daily[Math.floor((row.hour - firstDay) / DAY_MS)];
        if (!day) continue;
        day.created += row.subscribed;
        day.removed += row.unsubscribed;
      }
      // Each day's total is where it ended: today's is now, each earlier one less what came after it.
      let total = counts.total;
      for (let i = daily.length - 1; i >= 0; i--) {
        daily[i]!.total = Math.max(0, total);
        total -= daily[i]!.created - daily[i]!.removed;
      }
      const answer: SubscriberStats = { total: counts.total, byService: counts.byService, byBrowser: counts.byBrowser, daily };
      if (by !== undefined && counts.byAttribute) answer.byAttribute = { key: by, ...counts.byAttribute };
      return answer;
    },

    async subscriptions(query) {
      const { to, after } = query ?? {};
      const limit = pageSize(query?.limit);
      if (after !== undefined && (typeof after !== 'string' || after.length === 0)) invalid('after', 'must be the next of the page before');
      const found = await store.findSubscriptions({ ...toSubscriptionQuery(to), limit: limit + 1, ...defined({ after }) });
      const items = found.slice(0, limit).map(subscriptionSummary);
      return found.length > limit ? { items, next: items.at(-1)!.id } : { items };
    },
  };
}

const noEvents = (): EventCounts => ({ delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0 });

function addEvents(to: EventCounts, row: EventCounts): void {
  to.delivered += row.delivered;
  to.shown += row.shown;
  to.clicked += row.clicked;
  to.closed += row.closed;
  to.workerFailed += row.workerFailed;
}

const rate = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

/** The send-log row without the store's own fields. */
function record(send: StoredSend): SendRecord {
  const { services: _services, ...rest } = send;
  return rest;
}

/** A message's funnel: its send-log row and its verified events, the unverified ones apart. */
export function messageStats(send: StoredSend, rows: MessageEventRow[]): MessageStats {
  const verified = noEvents();
  const unverified = noEvents();
  const byService: MessageStats['byService'] = {};
  const byBrowser: MessageStats['byBrowser'] = {};
  for (const [service, outcomes] of Object.entries(send.services)) byService[service] = { ...outcomes, ...noEvents() };
  for (const row of rows) {
    if (row.messageId !== send.id) continue;
    if (!row.verified) {
      addEvents(unverified, row);
      continue;
    }
    addEvents(verified, row);
    addEvents((byService[row.service] ??= { sent: 0, gone: 0, failed: 0, ...noEvents() }), row);
    addEvents((byBrowser[row.browser] ??= noEvents()), row);
  }
  return {
    ...record(send),
    ...verified,
    clickRate: rate(verified.clicked, verified.shown),
    closeRate: rate(verified.closed, verified.shown),
    byService,
    byBrowser,
    unverified,
    errors: [...send.failures].sort((a, b) => b.count - a.count || (a.cause < b.cause ? -1 : a.cause > b.cause ? 1 : 0)),
  };
}

function summary(send: StoredSend, rows: MessageEventRow[]): MessageSummary {
  const verified = noEvents();
  for (const row of rows) if (row.verified && row.messageId === send.id) addEvents(verified, row);
  return { ...record(send), ...verified, clickRate: rate(verified.clicked, verified.shown) };
}

function subscriptionSummary(entry: StoredSubscription): SubscriptionSummary {
  const { endpoint } = entry.subscription;
  const out: SubscriptionSummary = {
    id: entry.id,
    service: pushServiceOf(endpoint),
    browser: entry.browser ?? 'unknown',
    host: endpointHost(endpoint),
    attributes: entry.attributes,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  };
  if (entry.failingSince !== undefined) out.failingSince = entry.failingSince;
  if (entry.lastSentAt !== undefined) out.lastSentAt = entry.lastSentAt;
  return out;
}

/** The `after` of the send log's next page: the last row's time and id, opaque to callers. */
function cursor(send: SendRecord): string {
  return Buffer.from(JSON.stringify([send.createdAt, send.id])).toString('base64url');
}

function readCursor(text: unknown): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(text as string, 'base64url').toString('utf8')) as unknown[];
    if (typeof text === 'string' && Number.isSafeInteger(createdAt) && typeof id === 'string') return { createdAt: createdAt as number, id };
  } catch {
    // Refused below.
  }
  return invalid('after', 'must be the next of the page before');
}

function time(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) invalid(field, 'must be ms since the epoch');
  return value;
}

function pageSize(value: unknown): number {
  if (value === undefined) return 50;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 500) invalid('limit', 'must be an integer from 1 to 500');
  return value;
}

/** The fields whose value is not undefined (exactOptionalPropertyTypes). */
function defined<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
