import type { Urgency } from '../../shared/protocol.js';
import type { SendTarget } from '../audience/toSubscriptionQuery.js';

export interface SendOptions {
  /** Subscription ids, or attributes every target must match. @default every subscription */
  to?: SendTarget;
  /** Seconds the push service keeps the message for an offline browser (RFC 8030 TTL). @default 2419200 (4 weeks) */
  ttl?: number;
  /** @default 'normal' */
  urgency?: Urgency;
  /** A newer message with the same topic replaces an undelivered one (<= 32 base64url characters). */
  topic?: string;
  /**
   * Seal the envelope for subscriptions that registered a seal key. `false` sends it as
   * plain Web Push (still encrypted to the browser), e.g. for content that is public anyway.
   * @default true
   */
  seal?: boolean;
  /**
   * Send the envelope as Declarative Web Push JSON (see `toDeclarative`): Safari 18.4+
   * shows it with no service worker, others hand it to the tidings worker. Relative URLs
   * need `createPushServer({ siteUrl })`; sent unsealed, so `seal: true` is refused.
   * @default false
   */
  declarative?: boolean;
  /**
   * Who sent it, for the send log (a user name, a job's name): 1-200 characters of plain
   * text. The dashboard passes whoever its `authorize` said is looking.
   */
  by?: string;
}

export interface SendError {
  subscriptionId: string;
  endpoint: string;
  /** The push service's HTTP status, when it answered. */
  status?: number;
  reason: string;
}

export interface SendResult {
  /** The envelope id (made up when the envelope had none). */
  id: string;
  sent: number;
  /** Subscriptions the push service said were gone (404/410): removed from the store. */
  gone: number;
  failed: number;
  /**
   * Of the failed, subscriptions removed because they had kept failing, never `gone`,
   * for longer than `pruneFailingAfterDays`.
   */
  pruned: number;
  errors: SendError[];
  /** With `to` naming ids: those the store does not know (deleted, gone, or never registered). */
  unknown?: string[];
}
