// The insight contract (issue 19): the send log, the funnel of each message, the timeline
// and the audience, as `push.stats` and `createSendQueue(…).stats` answer them and the
// dashboard reads them. All times are ms since the epoch; all counts are integers >= 0.
// "Verified" events are those whose request was signed with the key derived from the
// named subscription's `auth` secret (docs/insight.md).
import type { Attributes, Envelope } from '../../shared/protocol.js';
import type { SendTarget } from '../audience/Audience.js';

export type { SendTarget };

/**
 * Where a send is: `scheduled` (waits for its time, issue 21), `queued` (waits for a
 * sender), `running`, then one of `done`, `cancelled`, `failed`. A state only moves
 * forward; the last three are final.
 */
export type SendState = 'scheduled' | 'queued' | 'running' | 'done' | 'cancelled' | 'failed';

/** Outcome counts of one send; each subscriber is counted once, in one of these. */
export interface SendCounts {
  /** Subscribers in the audience when the send ran (the sum of its pages or batches). */
  targeted: number;
  /** Accepted by the push service (2xx). */
  sent: number;
  /** 404/410 from the push service, or deleted before their turn: removed from the store. */
  gone: number;
  /** Every other failure (see failures). */
  failed: number;
  /** Of the failed: deleted because they had kept failing for pruneFailingAfterDays. */
  pruned: number;
  /** Skipped by a frequency cap (issue 21). */
  capped: number;
  /** Held back by quiet hours or local time, to be sent later (issue 21). */
  deferred: number;
}

/** Failures of one send grouped by cause and push-service host. */
export interface SendFailure {
  /** 'http-4xx' | 'http-429' | 'http-5xx' | 'timeout' | 'network' | 'circuit-open' | 'endpoint-refused' | 'address-refused' | 'too-large' | 'vapid' | 'store' | 'other' */
  cause: string;
  /** The push service's host ('fcm.googleapis.com'), or '' when none was reached. */
  host: string;
  count: number;
  /** One reason text as the push service or the network gave it (sanitised, <= 200 chars). */
  sample?: string;
}

/** One row of the send log: written when the send is created and once per page/batch after. */
export interface SendRecord extends SendCounts {
  id: string;
  /** From the envelope: notification.title, notification.url, type (absent when the envelope has none). */
  title?: string;
  url?: string;
  type?: string;
  /** The envelope as given to send() (after validation, with its id). */
  envelope: Envelope;
  /** The audience as validated (the audience compiler's own form); null: everyone. */
  audience: unknown | null;
  /** The send's options, JSON (ttl, urgency, topic, seal, declarative, and issue 21's controls). */
  options: Record<string, unknown>;
  /** Who sent it: send(envelope, { by }) or the dashboard's authorize(). */
  by?: string;
  /** 'send' for push.send(), 'queue' for createSendQueue().send(). */
  via: 'send' | 'queue';
  state: SendState;
  createdAt: number;
  /** When it is to start (issue 21's `at`); absent: at once. */
  scheduledAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /**
   * While it runs: when its process will have written to this row again at the latest (it
   * writes every page, and at least once a minute; a send waiting for its next slice, that
   * slice's time). Past it, the process has most likely stopped: `overdueSince`.
   */
  nextWriteBy?: number;
  /** Why it failed (state 'failed'). */
  error?: string;
  failures: SendFailure[];
}

/** What the worker reported about one message: each (subscription, type) counted once. */
export interface EventCounts {
  delivered: number;
  shown: number;
  clicked: number;
  closed: number;
  /** The worker's `failed` events (bad payload, unseal, refused click URL...). */
  workerFailed: number;
}

/** Send outcomes of one push service within one send. */
export type ServiceOutcomes = Pick<SendCounts, 'sent' | 'gone' | 'failed'>;

/** push.stats.message(id): the funnel of one send. */
export interface MessageStats extends SendRecord, EventCounts {
  /** clicked / shown, null when nothing was shown. */
  clickRate: number | null;
  /** closed / shown, null when nothing was shown. */
  closeRate: number | null;
  /** Per push service ('fcm', 'mozilla', 'apple', 'windows', 'other'): send outcomes and verified events. */
  byService: Record<string, ServiceOutcomes & EventCounts>;
  /** Per browser family ('chrome', 'edge', 'firefox', 'safari', 'opera', 'samsung', 'other', 'unknown'): verified events. */
  byBrowser: Record<string, EventCounts>;
  /** Unsigned events (older workers), never added to the verified counts above. */
  unverified: EventCounts;
  /** = failures, sorted by count. */
  errors: SendFailure[];
}

/** One row of push.stats.messages(). */
export type MessageSummary = SendRecord & EventCounts & { clickRate: number | null };

/** push.stats.messages({ since, until, limit, after }): the send log, newest first, paged. */
export interface MessagePage {
  items: MessageSummary[];
  /** Pass as `after` for the next page; absent on the last one. */
  next?: string;
}

/** One bucket of a timeline. */
export interface TimelinePoint {
  /** The bucket's start (UTC hour or day). */
  at: number;
  /** Sends started in the bucket. */
  messages: number;
  /** Pushes accepted by push services in the bucket. */
  sent: number;
  delivered: number;
  shown: number;
  clicked: number;
  closed: number;
  workerFailed: number;
  /** Subscriptions created in the bucket. */
  subscribed: number;
  /** Subscriptions removed in the bucket (unsubscribed, gone, pruned, deleted). */
  unsubscribed: number;
}

/** push.stats.timeline({ since, until, bucket }) */
export interface Timeline {
  bucket: 'hour' | 'day';
  /** One point per bucket from since to until (buckets with nothing are zeros, not missing). */
  points: TimelinePoint[];
}

/** push.stats.subscribers({ by, since }) */
export interface SubscriberStats {
  total: number;
  byService: Record<string, number>;
  byBrowser: Record<string, number>;
  /** With `by: 'team'`: the counts of that attribute's values, largest first (at most 100; the rest summed in `other`). */
  byAttribute?: { key: string; values: { value: string | number | boolean; count: number }[]; other: number; none: number };
  /** Per day since `since` (default 30 days): subscriptions created and removed (unsubscribed, gone, pruned, deleted). */
  daily: { day: number; created: number; removed: number; total: number }[];
}

/** push.stats.subscriptions({ to, limit, after }): find subscriptions (e.g. one user's) with their state. */
export interface SubscriptionSummary {
  id: string;
  service: string;
  browser: string;
  /** The endpoint's host only (the full endpoint is a capability: never shown). */
  host: string;
  attributes: Attributes;
  createdAt: number;
  updatedAt: number;
  failingSince?: number;
  /** Last time a push to it was accepted, when known. */
  lastSentAt?: number;
}

export interface MessagesQuery {
  /** Sends created at or after this time. */
  since?: number;
  /** Sends created before this time. */
  until?: number;
  /** Rows per page, 1 to 500. @default 50 */
  limit?: number;
  /** The `next` of the page before. */
  after?: string;
}

export interface TimelineQuery {
  since: number;
  /** @default now */
  until?: number;
  bucket: 'hour' | 'day';
}

export interface SubscribersQuery {
  /** An attribute key to count the values of. */
  by?: string;
  /** The first day of `daily`. @default 30 days ago */
  since?: number;
}

export interface SubscriptionsQuery {
  /** An id, ids or an audience, as for send(); absent: every subscription. */
  to?: SendTarget;
  /** Rows per page, 1 to 500. @default 50 */
  limit?: number;
  after?: string;
}

/** The figures of tidings: `push.stats`, `createSendQueue(…).stats`. Each call reads rollups, never raw events. */
export interface PushStats {
  /** The funnel of one send, or undefined when the send log has no such id. */
  message(id: string): Promise<MessageStats | undefined>;
  /** The send log, newest first, with each message's verified funnel. */
  messages(query?: MessagesQuery): Promise<MessagePage>;
  /** Sends, pushes and events per hour or day. */
  timeline(query: TimelineQuery): Promise<Timeline>;
  /** Subscriptions now, by push service, browser and one attribute, and per day. */
  subscribers(query?: SubscribersQuery): Promise<SubscriberStats>;
  /** Subscriptions with their state (never their endpoints), in id order, paged. */
  subscriptions(query: SubscriptionsQuery): Promise<{ items: SubscriptionSummary[]; next?: string }>;
}

/**
 * What `onEvent` is called with (the shape of OneSignal's event streams: a `kind` naming
 * the channel and what happened, the event's own id and time, the message and the
 * subscription it concerns): once for each counted event and once for each finished send.
 */
export type InsightEvent =
  | {
      kind: 'message.push.delivered' | 'message.push.shown' | 'message.push.clicked' | 'message.push.closed' | 'message.push.failed';
      /** The worker's event id: unique, so a consumer can drop a repeat. */
      id: string;
      /** When it happened in the browser (its clock, never later than its arrival). */
      timestamp: number;
      message: { id: string };
      subscription: { id: string; service: string; browser: string };
      /** The button clicked (`clicked`) or why the worker failed (`failed`). */
      data?: { action?: string; reason?: string };
    }
  | {
      kind: 'message.send.finished';
      /** `{message id}.finished`. */
      id: string;
      /** When the send finished. */
      timestamp: number;
      message: { id: string; title?: string };
      /** The send-log row as it ended (state done, failed or cancelled). */
      send: SendRecord;
    };
