import type { Attributes, EventType, RegisterRequest, SealKey, SubscriptionJSON, TidingsEvent } from '../../shared/protocol.js';
import type { AttributeChanges, SubscriptionQuery } from '../audience/Audience.js';
import type { CapCheck, CapEntry } from '../controls/frequencyCap.js';

export type { AttributeChanges, AttributeMatch, AttributeValue, Audience, SubscriptionQuery } from '../audience/Audience.js';
export type { CapCheck, CapEntry, FrequencyCap } from '../controls/frequencyCap.js';

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
}

/** What a registration writes over the row it finds (see `saveSubscription`). */
export interface SaveDecision {
  /** The subscription's attributes from now on (they replace the stored ones). */
  attributes: Attributes;
  /** Which of them `identify` gave (kept as `identityKeys`). */
  identityKeys?: string[];
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
   */
  saveSubscription(request: RegisterRequest, decide?: DecideSave): Promise<{ id: string; created: boolean }>;
  getSubscription(id: string): Promise<StoredSubscription | undefined>;
  /** The subscription with this endpoint. */
  getSubscriptionByEndpoint(endpoint: string): Promise<StoredSubscription | undefined>;
  /** True when something was deleted. */
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
  /** Stores events, ignoring ids already stored. Resolves to how many were new. */
  addEvents(events: TidingsEvent[]): Promise<number>;
  listEvents(query?: EventQuery): Promise<TidingsEvent[]>;
  /** Deletes events whose `at` is before `before` (ms since the epoch): retention. Resolves to how many. */
  deleteEventsBefore(before: number): Promise<number>;
  /** Keeps a message body (envelope JSON) until `expiresAt` (ms since the epoch). */
  saveMessage(id: string, body: string, expiresAt: number): Promise<void>;
  /** The body, or undefined when unknown or expired. */
  getMessage(id: string): Promise<string | undefined>;
  close(): Promise<void>;
}
