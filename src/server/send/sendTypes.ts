import type { Urgency } from '../../shared/protocol.js';
import type { SendTarget } from '../audience/toSubscriptionQuery.js';
import type { LocaleOverride } from '../controls/locales.js';

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

  // Sending controls (docs/controls.md). Each is checked when send() is called.

  /**
   * When to send: a Date, ms since the epoch, or an ISO 8601 text with its offset; at
   * most a year ahead. send() then returns at once with the send's id, and the send runs
   * at that time (in a process with `scheduler: true`, or in the queue's senders),
   * whatever restarts come between. A time already past runs at once. @default now
   */
  at?: Date | number | string;
  /**
   * Deliver at this 24-hour time (`'09:00'`) in each subscriber's own time zone (the
   * `timeZone` attribute the page records), the next one to come after `at` (or now).
   * Makes the send scheduled, like `at`.
   */
  localTime?: string;
  /** The IANA zone (`'Europe/Paris'`) of subscribers whose zone is not known, for `localTime` and `quietHours`. @default 'UTC' */
  timeZone?: string;
  /**
   * Quiet hours in each subscriber's own time (`['22:00', '08:00']`): a subscriber inside
   * them when the send reaches them gets it when they end. Makes the send scheduled.
   */
  quietHours?: [from: string, to: string];
  /** At most this many pushes a second for this send, across every process sending it. @default no limit */
  perSecond?: number;
  /**
   * A frequency cap: a subscriber who already got `max` pushes of capped sends in the last
   * `per` (`'12h'`, `'1d'`, `'7d'`, or ms) is skipped and counted `capped`. `false` sends
   * past the server's default `cap` (a password reset). @default createPushServer's `cap`
   */
  cap?: { max: number; per: string | number } | false;
  /**
   * The message in other languages, by BCP 47 tag: `{ fr: { notification: { title, body } } }`.
   * Each subscriber gets the best match for their `language` attribute (`fr-CA` -> `fr`),
   * else the envelope as given; each payload carries one language.
   */
  locales?: Record<string, LocaleOverride>;
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
  /** Subscribers skipped by a frequency cap (present when the send had one). */
  capped?: number;
  /**
   * Present when the send waits (`at`, `localTime`, `quietHours`): when its first push is
   * due, ms since the epoch. send() returned at once, counts zero; `push.status(id)` follows it.
   */
  scheduledAt?: number;
  /** With `to` naming ids: those the store does not know (deleted, gone, or never registered). */
  unknown?: string[];
}
