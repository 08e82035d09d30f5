// What the stores keep for insight (issue 19) and hand to src/server/stats, which shapes
// it into the contract of statsTypes.ts. Each store implements the SubscriptionStore
// methods that take and give these; the shared suite (test/unit/server/stores.test.ts)
// holds every store to the same answers.
import type { EventType, TidingsEvent } from '../../shared/protocol.js';
import type { SendCounts, SendFailure, SendRecord, SendState, ServiceOutcomes } from '../stats/statsTypes.js';

/** A send-log row as stored: the record, and its outcomes per push service. */
export interface StoredSend extends SendRecord {
  /** Per push service ('fcm', 'mozilla'…): sent, gone, failed. */
  services: Record<string, ServiceOutcomes>;
}

/**
 * What a sender writes into a send-log row. Counts are absolute (what the send has done
 * so far), never deltas, and a store keeps the larger of the stored and the given value
 * of each: two senders writing what they read at different moments, or a batch run
 * twice, leave the row exactly right whatever the order of their writes.
 */
export interface SendUpdate {
  /** Moves the state forward only (scheduled, queued, running, then done, cancelled or failed); a final state is kept. */
  state?: SendState;
  /** Kept once set. */
  startedAt?: number;
  /** Kept once set. */
  finishedAt?: number;
  /** The larger of the stored and the given value is kept. */
  nextWriteBy?: number;
  error?: string;
  counts?: Partial<SendCounts>;
  /** Per push service; each count as `counts`. */
  services?: Record<string, Partial<ServiceOutcomes>>;
  /** Per (cause, host); each count as `counts`, the first sample kept. */
  failures?: SendFailure[];
}

/** What updateSend did. */
export interface SendUpdated {
  /** The row after the update. */
  send: StoredSend;
  /** True when this update moved it into a final state (done, cancelled, failed): its finish is reported once. */
  finished: boolean;
}

/** A page of the send log, newest first: `before` is the last row of the page before. */
export interface SendListQuery {
  since?: number;
  until?: number;
  limit: number;
  before?: { createdAt: number; id: string };
}

/** The event types that count in figures, and the rollup column each adds to. */
export const COUNTED_TYPES: Partial<Record<EventType, 'delivered' | 'shown' | 'clicked' | 'closed' | 'workerFailed'>> = {
  delivered: 'delivered',
  shown: 'shown',
  clicked: 'clicked',
  closed: 'closed',
  failed: 'workerFailed',
};

/**
 * Events of one `POST /events`, to store and count in one transaction (recordEvents).
 * With `subscriptionId` they are verified (the caller checked the signature against that
 * subscription's auth secret); without, unverified.
 */
export interface EventBatch {
  events: TidingsEvent[];
  subscriptionId?: string;
  /** Events whose `at` is before this are stored but not counted (retention's cut-off: a replay of an old body adds nothing). */
  countSince: number;
}

/** A counted verified event, with what the store knows of its subscription. */
export interface CountedEvent {
  event: TidingsEvent & { messageId: string };
  subscriptionId: string;
  service: string;
  browser: string;
}

export interface RecordedEvents {
  /** Events new to the store (ids not seen before). */
  stored: number;
  /** The verified events this call counted (each (message, subscription, type) once). */
  counted: CountedEvent[];
}

/**
 * One rollup row of a message's events: verified ones per push service and browser
 * family, unverified ones in a row of their own (service and browser '').
 */
export interface MessageEventRow {
  messageId: string;
  verified: boolean;
  service: string;
  browser: string;
  delivered: number;
  shown: number;
  clicked: number;
  closed: number;
  workerFailed: number;
}

/** One hour of the timeline rollup (UTC hours). */
export interface HourRow {
  hour: number;
  messages: number;
  sent: number;
  delivered: number;
  shown: number;
  clicked: number;
  closed: number;
  workerFailed: number;
  subscribed: number;
  unsubscribed: number;
}

/** Subscriptions now, as counted by the store. */
export interface SubscriberCounts {
  total: number;
  byService: Record<string, number>;
  byBrowser: Record<string, number>;
  /**
   * With `by`: that attribute's `top` most frequent values (largest count first, ties in
   * the order of the value's JSON text), `other` the subscriptions holding any other value,
   * `none` those without the key. Values are typed: '7' and 7 are two.
   */
  byAttribute?: { values: { value: string | number | boolean; count: number }[]; other: number; none: number };
}

/** What subscriberCounts is asked. */
export interface SubscriberCountsQuery {
  by?: string;
  /** Values of `by` listed at most. @default 100 */
  top?: number;
}

export const HOUR_MS = 3_600_000;

/** The UTC hour `at` falls in. */
export const hourOf = (at: number): number => Math.floor(at / HOUR_MS) * HOUR_MS;

/** The rollup column an event adds to, when it is of a kind that counts (see SubscriptionStore.recordEvents). */
export function countedColumn(event: TidingsEvent, countSince: number): keyof EventColumns | undefined {
  if (event.messageId === undefined || event.at < countSince) return undefined;
  // A replayed push was counted when it was first delivered; the worker's note of the copy is no failure.
  if (event.type === 'failed' && event.reason === 'replayed') return undefined;
  return COUNTED_TYPES[event.type];
}

/** The event columns of the rollups. */
export interface EventColumns {
  delivered: number;
  shown: number;
  clicked: number;
  closed: number;
  workerFailed: number;
}

/** Largest count first; ties in the order of the value's JSON text, so every store answers alike. */
export function byCount(a: { value: unknown; count: number }, b: { value: unknown; count: number }): number {
  const x = JSON.stringify(a.value);
  const y = JSON.stringify(b.value);
  return b.count - a.count || (x < y ? -1 : x > y ? 1 : 0);
}

/** The final states: once there, a send's state never changes. */
export const FINAL_STATES: readonly SendState[] = ['done', 'cancelled', 'failed'];

/** A state's place in the order states move in; the final ones share the last. */
export function stateRank(state: SendState): number {
  return FINAL_STATES.includes(state) ? 3 : ['scheduled', 'queued', 'running'].indexOf(state);
}

/** The SubscriptionStore methods of insight: createPushServer and the queue name one a store lacks. */
export const INSIGHT_METHODS = [
  'recordEvents',
  'createSend',
  'updateSend',
  'getSend',
  'listSends',
  'markSent',
  'messageEvents',
  'hourlyStats',
  'subscriberCounts',
] as const;
