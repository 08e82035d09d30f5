import type { Attributes, EventType, RegisterRequest, SealKey, SubscriptionJSON, TidingsEvent } from '../../shared/protocol.js';

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
}

/** Which subscriptions a send goes to. No target: all of them. */
export interface SubscriptionQuery {
  ids?: string[];
  /** Every given attribute must match exactly. */
  attributes?: Attributes;
  /**
   * Paging, which send() always asks for: with `limit`, answer at most that many matches,
   * the first in id order (plain string order, as SQL's ORDER BY id) among those whose id
   * is greater than `after` (when given). Without `limit`, every match, in any order.
   */
  limit?: number;
  after?: string;
}

export interface EventQuery {
  messageId?: string;
  type?: EventType;
  /** Default 1000. */
  limit?: number;
}

/**
 * Where the backend keeps subscriptions, analytics events and messages too large to
 * push. Small on purpose, so a site can put its own database behind it; every method
 * is async for that reason. `memoryStore()` and `sqliteStore(file)` pass one test suite.
 */
export interface SubscriptionStore {
  /** Adds a subscription, or updates the one with the same endpoint (keeping its id). */
  saveSubscription(request: RegisterRequest): Promise<{ id: string; created: boolean }>;
  getSubscription(id: string): Promise<StoredSubscription | undefined>;
  /** The subscription with this endpoint: registration checks who may replace it. */
  getSubscriptionByEndpoint(endpoint: string): Promise<StoredSubscription | undefined>;
  /** True when something was deleted. */
  deleteSubscription(id: string): Promise<boolean>;
  findSubscriptions(query?: SubscriptionQuery): Promise<StoredSubscription[]>;
  /**
   * Records a push's outcome for pruning: `failed: true` sets `failingSince` to `at`
   * when it is not set yet; `failed: false` clears it. Unknown ids are ignored.
   */
  markDelivery(id: string, failed: boolean, at: number): Promise<void>;
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
