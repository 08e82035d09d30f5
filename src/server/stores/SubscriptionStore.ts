import type { Attributes, EventType, RegisterRequest, SealKey, SubscriptionJSON, TidingsEvent } from '../../shared/protocol.js';
import type { AttributeChanges, SubscriptionQuery } from '../audience/Audience.js';
import type { CapCheck, CapEntry } from '../controls/frequencyCap.js';
import type { ScheduleClaim, ScheduledSend, ScheduleUpdate } from '../schedule/scheduleTypes.js';
import type { SendRecord } from '../stats/statsTypes.js';
import type {
  EventBatch,
  HourRow,
  MessageEventRow,
  RecordedEvents,
  SendListQuery,
  SendUpdate,
  SendUpdated,
  StoredSend,
  SubscriberCounts,
  SubscriberCountsQuery,
} from './insightRows.js';

export type { AttributeChanges, AttributeMatch, AttributeValue, Audience, SubscriptionQuery } from '../audience/Audience.js';
export type { CapCheck, CapEntry, FrequencyCap } from '../controls/frequencyCap.js';
export type { PlannedSlice, ScheduleClaim, ScheduledSend, ScheduleUpdate, SendPlan } from '../schedule/scheduleTypes.js';

/** A subscription as the store keeps it. */
export interface StoredSubscription {
  /** Opaque, unguessable: the client deletes with it. */
  id: string;
  subscription: SubscriptionJSON;
  sealKey?: SealKey;
  attributes: Attributes;
  /** ms since the epoch. */
  createdAt: number;
  updatedAt: number;
  /**
   * ms since the epoch of the first failed push in the current run of failures (not
   * `gone`); absent while pushes succeed. A subscription failing for long is pruned.
   */
  failingSince?: number;
  /**
   * The keys of `attributes` that `identify` gave at the last registration (the owner);
   * absent on rows written without a decision (a direct `saveSubscription(request)`, or
   * a store made before tidings kept it). Registration compares it with the next
   * `identify` answer to tell a returning owner from a new one.
   */
  identityKeys?: string[];
  /**
   * The pushes of capped sends it got lately, oldest first: `[at, tag]` each, at most as
   * many as the largest frequency cap's `max` (see `capSends`). Absent until the first.
   */
  recentPushes?: CapEntry[];
  /**
   * The browser family of the last registration (browserFamilyOf its User-Agent: 'chrome',
   * 'firefox'…, 'unknown' when it sent none). Figures are grouped by it; it proves nothing.
   */
  browser?: string;
  /** ms since the epoch of the last push a push service accepted, when known (written once per page of a send). */
  lastSentAt?: number;
}

/** What a registration writes over the row it finds (see `saveSubscription`). */
export interface SaveDecision {
  /** The subscription's attributes from now on (they replace the stored ones). */
  attributes: Attributes;
  /** Which of them `identify` gave (kept as `identityKeys`). */
  identityKeys?: string[];
  /** The browser family (browserFamilyOf the request's User-Agent). @default the stored one, else 'unknown' */
  browser?: string;
}

/**
 * Decides a registration from the row stored for its endpoint (`undefined`: none yet).
 * Called inside the store's transaction, synchronously, before anything is written:
 * throwing refuses the registration (nothing is written, `saveSubscription` rejects with
 * that error). Pure: a store may call it again if it has to retry its transaction.
 */
export type DecideSave = (existing: StoredSubscription | undefined) => SaveDecision;

export interface EventQuery {
  messageId?: string;
  type?: EventType;
  /** Default 1000. */
  limit?: number;
}

/**
 * Where the backend keeps subscriptions, analytics events and messages too large to
 * push. Small on purpose, so a site can put its own database behind it; every method
 * is async for that reason. `memoryStore()`, `sqliteStore(file)` and `postgresStore()`
 * pass one test suite (test/unit/server/stores.test.ts), which a site's own store can run.
 *
 * Queries (`SubscriptionQuery`) reach a store already checked by tidings (checkAudience:
 * own keys only, bounded, never empty where "everyone" was not meant); a store still
 * binds every key and value as a parameter, never pastes them into SQL.
 *
 * Insight (docs/insight.md): beside subscriptions a store keeps a send log (one row per
 * send), raw events (for `eventRetentionDays`), and rollups that outlive them: per
 * message (verified events by push service and browser family, unverified apart) and
 * per UTC hour (sends started, pushes accepted, each event type, subscriptions created
 * and removed). Rollups change only in the transaction that changes what they count
 * (an event stored, a subscription created or removed, a send-log row updated), so the
 * figures never need a scan of raw events. Every subscription keeps its push service
 * (pushServiceOf its endpoint) and browser family, so counting an event needs no parsing.
 */
export interface SubscriptionStore {
  /**
   * Adds a subscription, or updates the one with the same endpoint, keeping its id,
   * `createdAt` and `failingSince`. Endpoints are unique: two calls for one endpoint at
   * the same moment (two requests, two processes) must end in one row.
   *
   * Without `decide`, the request's attributes are written as they are. With it, the
   * store reads the row for the endpoint and writes what `decide(row)` answers in one
   * transaction (or one statement), so no other registration of that endpoint can come
   * between the read and the write; if `decide` throws, nothing is written and the call
   * rejects with its error. Registration relies on this to decide who owns an endpoint.
   * A new row adds one to the `subscribed` of the current hour's rollup, in the same
   * transaction.
   */
  saveSubscription(request: RegisterRequest, decide?: DecideSave): Promise<{ id: string; created: boolean }>;
  getSubscription(id: string): Promise<StoredSubscription | undefined>;
  /** The subscription with this endpoint. */
  getSubscriptionByEndpoint(endpoint: string): Promise<StoredSubscription | undefined>;
  /** True when something was deleted. Each row deleted (here and by deleteSubscriptions) adds one to the `unsubscribed` of the current hour's rollup. */
  deleteSubscription(id: string): Promise<boolean>;
  /**
   * The subscriptions that match `query` (in the ids, if given, and matching its audience):
   * `attributes` (a value: equal, type included; a list: equal to one of them;
   * `{present}`: the key is there or not), `any` (at least one matches), `not` (does not
   * match), all parts ANDed. No query: every subscription. Pages as `limit`/`after` say.
   */
  findSubscriptions(query?: SubscriptionQuery): Promise<StoredSubscription[]>;
  /** How many subscriptions match `query` (as findSubscriptions, `limit` and `after` aside). */
  countSubscriptions(query?: SubscriptionQuery): Promise<number>;
  /**
   * Merges `changes` into the attributes of every subscription matching `query` (a value
   * sets its key, `null` removes it; other keys are kept), as one transaction or
   * statement: a subscription matches or not by its attributes before the change.
   * Resolves to how many subscriptions matched.
   */
  updateAttributes(query: SubscriptionQuery, changes: AttributeChanges): Promise<number>;
  /** Deletes every subscription matching `query`, in one transaction or statement. Resolves to how many. */
  deleteSubscriptions(query: SubscriptionQuery): Promise<number>;
  /**
   * Records a push's outcome for pruning: `failed: true` sets `failingSince` to `at`
   * when it is not set yet; `failed: false` clears it. Unknown ids are ignored.
   */
  markDelivery(id: string, failed: boolean, at: number): Promise<void>;
  /**
   * Frequency caps, checked and written at once: for each id, `applyCap` (exported from
   * tidings/server) decides from the subscription's `recentPushes` whether this push may
   * go, and records it when it may. Runs under a lock or in one transaction, so two
   * senders capping the same subscriber at the same moment cannot both pass the cap.
   * Resolves to the ids refused (capped); unknown ids are neither refused nor recorded.
   */
  capSends(ids: string[], check: CapCheck): Promise<string[]>;
  /**
   * Keeps a send for its time (`send(…, { at })` without the queue): false (nothing
   * written) when one with this id is kept already. Its send-log row is written first.
   */
  scheduleSend(send: ScheduledSend): Promise<boolean>;
  /**
   * Takes up to `limit` due sends for `owner`, earliest first: each held by no one, or by
   * a lease that lapsed. Atomic across processes (PostgreSQL: FOR UPDATE SKIP LOCKED;
   * SQLite: one IMMEDIATE transaction), so two schedulers never take the same send.
   */
  claimScheduledSends(claim: ScheduleClaim): Promise<ScheduledSend[]>;
  /** Renews (or releases, leaseUntil 0) `owner`'s lease, with the plan's progress; false when `owner` no longer holds it (it lapsed and was taken, or the send was cancelled). */
  updateScheduledSend(id: string, owner: string, update: ScheduleUpdate): Promise<boolean>;
  /** Forgets a kept send (done, or cancelled). True when there was one. */
  deleteScheduledSend(id: string): Promise<boolean>;
  /** Stores events as they are, ignoring ids already stored, counting none (recordEvents counts). Resolves to how many were new. */
  addEvents(events: TidingsEvent[]): Promise<number>;
  /**
   * Stores a batch of events and updates the rollups, in one transaction. Events whose id
   * is stored already are skipped. Of the new ones, those of a counted type (delivered,
   * shown, clicked, closed, failed but for reason `replayed`), naming a `messageId` that is
   * in the send log, with `at >= countSince`, are counted:
   * - verified (`subscriptionId`, which must exist: else nothing is counted): each
   *   (message, subscription, type) once ever (a second one is stored, never counted),
   *   into the message's row for the subscription's push service and browser family and
   *   into the hour of its `at`; resolved in `counted`. A `closed` of a (message,
   *   subscription) whose `clicked` is counted (earlier, or before it in this batch) is
   *   not counted: Firefox fires notificationclose after notificationclick, and a click
   *   is no dismissal (tidings' worker leaves it out; an older worker, or one stopped
   *   between the two, sends it);
   * - unverified: into the message's unverified row only (never the hours).
   */
  recordEvents(batch: EventBatch): Promise<RecordedEvents>;
  listEvents(query?: EventQuery): Promise<TidingsEvent[]>;
  /**
   * Deletes raw events whose `at` is before `before` (ms since the epoch): retention, with
   * what recordEvents keeps to count each (message, subscription, type) once. Rollups and
   * the send log stay. Resolves to how many events.
   */
  deleteEventsBefore(before: number): Promise<number>;
  /**
   * Adds a row to the send log; false (and nothing written) when a send with this id is
   * there already. A row created `running` with `startedAt` adds one to that hour's
   * `messages`.
   */
  createSend(send: SendRecord): Promise<boolean>;
  /**
   * Writes a sender's progress into a send-log row, in one transaction (see SendUpdate:
   * absolute counts, each kept at the larger of stored and given; states only forward;
   * times kept once set). What `sent` grew by is added to the current hour's `sent`, and
   * a `startedAt` set for the first time adds one to its hour's `messages`. Undefined
   * when there is no such row.
   */
  updateSend(id: string, update: SendUpdate): Promise<SendUpdated | undefined>;
  getSend(id: string): Promise<StoredSend | undefined>;
  /** Send-log rows, newest first (createdAt, then id, both descending), created in [since, until). */
  listSends(query: SendListQuery): Promise<StoredSend[]>;
  /** Records that pushes to these subscriptions were accepted at `at` (their `lastSentAt`): one write per page, never per push. */
  markSent(ids: string[], at: number): Promise<void>;
  /** The rollup rows of these messages' events. */
  messageEvents(messageIds: string[]): Promise<MessageEventRow[]>;
  /** The hourly rollup rows in [since, until), by hour; hours with nothing may be missing. */
  hourlyStats(since: number, until: number): Promise<HourRow[]>;
  /** How many subscriptions there are, by push service and browser family, and with `by`, by that attribute's values. */
  subscriberCounts(query?: SubscriberCountsQuery): Promise<SubscriberCounts>;
  /** Keeps a message body (envelope JSON) until `expiresAt` (ms since the epoch). */
  saveMessage(id: string, body: string, expiresAt: number): Promise<void>;
  /** The body, or undefined when unknown or expired. */
  getMessage(id: string): Promise<string | undefined>;
  close(): Promise<void>;
}
