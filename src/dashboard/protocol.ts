/**
 * The dashboard's JSON, in one file of types: what each data URL answers and what each
 * POST takes. The handler (server side) and the pages (ui/) both import it; it imports
 * nothing of the server, so the pages' type-check sees no Node code. Everything in it is
 * plain JSON. Text fields hold what strangers wrote (titles, attribute keys and values,
 * error samples, user names): the pages render them as text only.
 */
import type { Attributes, Envelope, JsonValue } from '../shared/protocol.js';

/** Sending controls a push object may offer (issue 21), by the name of their send() option. */
export const CONTROLS = ['at', 'localTime', 'timeZone', 'quietHours', 'perSecond', 'cap', 'locales'] as const;
export type Control = (typeof CONTROLS)[number];

/** What the push server (and queue) at hand can do: each detected, none assumed. */
export interface Capabilities {
  /** `stats` (issue 19): the send log, funnels, timeline and subscriber counts. */
  stats: boolean;
  /** `count(to)`: an audience's size before sending. */
  count: boolean;
  /** `any`, `not`, lists and present/absent in `to` (issue 21's audiences, which came with `count`). */
  richAudiences: boolean;
  /** Compose sends through the queue (`createSendQueue`), which returns at once. */
  queue: boolean;
  /** A send's progress can be read while it runs (`queue.status` or `push.status`). */
  progress: boolean;
  /** A queued or scheduled send can be stopped (`cancel`). */
  cancel: boolean;
  /** The sending controls `send()` takes, as the push object (or queue) declares them. */
  controls: Control[];
}

export interface Session {
  /** Who is looking, as `authorize` named them (a stranger may have chosen this name). */
  viewer: string;
  /** Whether `authorize` named an audience for the viewer: "send a test to yourself". */
  canTest: boolean;
  capabilities: Capabilities;
  /** Origins whose http(s) URLs are shown as links (the dashboard's own is always one). */
  linkOrigins: string[];
  /** The attribute that names a person (the Audience page's search). */
  identityAttribute: string;
  /** Attribute keys offered on the Audience page. */
  attributes: string[];
  /** Interaction rate (clicks + closes per shown) below which the overview warns. */
  engagementWarning: number;
}

/** Every data answer carries the session, so a page needs one request. */
export interface Answer<T> {
  session: Session;
  data: T;
}

export interface EventCounts {
  delivered: number;
  shown: number;
  clicked: number;
  closed: number;
  workerFailed: number;
}

export interface SendCounts {
  targeted: number;
  sent: number;
  gone: number;
  failed: number;
  pruned: number;
  capped: number;
  deferred: number;
}

export type SendState = 'scheduled' | 'queued' | 'running' | 'done' | 'cancelled' | 'failed';

export const RANGES = ['2d', '7d', '30d', '90d'] as const;
export type Range = (typeof RANGES)[number];

export interface TimelinePoint extends EventCounts {
  at: number;
  messages: number;
  sent: number;
  subscribed: number;
  unsubscribed: number;
}

export interface Engagement {
  days: number;
  shown: number;
  clicked: number;
  closed: number;
  /** clicked / shown; null when nothing was shown. */
  clickRate: number | null;
  closeRate: number | null;
  /** (clicked + closed) / shown: what Chrome's revocation looks at (see the page's note). */
  interactionRate: number | null;
  /** Below `engagementWarning` with at least `minShown` shown. */
  low: boolean;
}

export interface OverviewData {
  range: Range;
  /** Subscriptions now: from `stats`, or just the total from `count()`. */
  subscribers?: { total: number; byService?: Record<string, number>; byBrowser?: Record<string, number> };
  /** Subscriptions per day (created, removed, total). */
  daily?: { day: number; created: number; removed: number; total: number }[];
  timeline?: { bucket: 'hour' | 'day'; points: TimelinePoint[] };
  /** The last 7 and 30 days. */
  engagement?: Engagement[];
  /** Shown notifications needed before a low rate warns (fewer say little). */
  minShown: number;
}

export interface MessageRow extends SendCounts, EventCounts {
  id: string;
  title?: string;
  url?: string;
  type?: string;
  by?: string;
  via: 'send' | 'queue';
  state: SendState;
  createdAt: number;
  scheduledAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** Not finished and late since then: its process has most likely stopped (`overdueSince` of tidings/server). */
  overdueSince?: number;
  clickRate: number | null;
}

export interface MessagesData {
  items: MessageRow[];
  /** The cursor of the next (older) page. */
  next?: string;
}

export interface SendFailure {
  cause: string;
  host: string;
  count: number;
  sample?: string;
}

export interface MessageDetail extends MessageRow {
  closeRate: number | null;
  envelope: Envelope;
  audience: JsonValue;
  options: Record<string, JsonValue>;
  error?: string;
  byService: Record<string, { sent: number; gone: number; failed: number } & EventCounts>;
  byBrowser: Record<string, EventCounts>;
  unverified: EventCounts;
  errors: SendFailure[];
}

/**
 * A send that has not finished, now: its send-log row's state and counts (`targeted` is
 * whom it has dealt with so far), with a queued send's live counts from the queue.
 */
export interface Progress extends SendCounts {
  state: SendState;
  /** Subscribers it is to reach in all, when known: a queued send counts its audience when queued. */
  expected?: number;
  error?: string;
  /** As MessageRow's: late since then, its process has most likely stopped. */
  overdueSince?: number;
}

export interface MessageData {
  id: string;
  /** From the send log (needs `stats`). */
  message?: MessageDetail;
  /** While it runs or waits (needs the queue or `push.status`). */
  progress?: Progress;
  /** A cancel button makes sense: it can be cancelled and has not finished. */
  cancellable: boolean;
}

export interface SubscriptionRow {
  id: string;
  service: string;
  browser: string;
  host: string;
  attributes: Attributes;
  createdAt: number;
  updatedAt: number;
  failingSince?: number;
  lastSentAt?: number;
}

export interface AudienceData {
  subscribers?: {
    total: number;
    byService: Record<string, number>;
    byBrowser: Record<string, number>;
    byAttribute?: { key: string; values: { value: string | number | boolean; count: number }[]; other: number; none: number };
    /** The page asked to count by the identity attribute: not counted (a value per person), find one instead. */
    byIdentity?: true;
  };
  /** One person's subscriptions, when the page asked for `key`/`value`. */
  found?: { key: string; value: string; items: SubscriptionRow[]; next?: string };
}

/** The Compose page's data is the session alone. */
export type ComposeData = Record<string, never>;

export type AttributeValue = string | number | boolean;
export type AttributeMatch = AttributeValue | AttributeValue[] | { present: boolean };
export interface Audience {
  attributes?: Record<string, AttributeMatch>;
  any?: Audience[];
  not?: Audience;
}

/** `POST api/count` */
export interface CountRequest {
  /** null: everyone. */
  to: Audience | null;
}
export interface CountAnswer {
  /** null when the push object has no `count`. */
  count: number | null;
}

/** What compose sends with: `ttl`, `urgency` and the controls the push object offers. */
export interface ComposeOptions {
  ttl?: number;
  urgency?: 'very-low' | 'low' | 'normal' | 'high';
  at?: number;
  localTime?: string;
  timeZone?: string;
  quietHours?: [string, string];
  perSecond?: number;
  cap?: { max: number; per: string };
  /** The message in other languages: `{ fr: { notification: { title, body } } }` (send()'s `locales`). */
  locales?: Record<string, LocaleOverride>;
}

/** What one language changes of the message (send()'s `locales`). */
export interface LocaleOverride {
  notification?: NonNullable<Envelope['notification']>;
  data?: JsonValue;
}

/** `POST api/send` */
export interface SendRequest {
  envelope: Envelope;
  /** null: everyone. */
  to: Audience | null;
  options?: ComposeOptions;
  /**
   * The audience size the viewer confirmed (`null`: confirmed without a known size).
   * Needed whenever the audience may be more than one subscriber: without it, or when it
   * no longer matches, the answer is 409 with the size to confirm.
   */
  confirm?: number | null;
}

/** `POST api/test`: the same message, to the viewer's own audience. */
export interface TestRequest {
  envelope: Envelope;
  options?: ComposeOptions;
  confirm?: number | null;
}

/** 409 to a send: confirm this size first. */
export interface ConfirmAnswer {
  error: 'confirm';
  audience: number | null;
}

export interface SendAnswer {
  id: string;
  via: 'send' | 'queue';
  /** A plain send's outcome (it finished before the answer). */
  result?: { sent: number; gone: number; failed: number; pruned?: number };
  /** A send that waits (at, local time, quiet hours): when it is due; it runs on, as a queued one does. */
  scheduledAt?: number;
}

/** `POST api/messages/{id}/cancel` */
export interface CancelAnswer {
  progress?: Progress;
}
