/**
 * The wire protocol of tidings in one file of types (Comlink's protocol.ts): the push
 * envelope, the page<->worker messages and the backend HTTP bodies. DESIGN.md is the
 * prose version of this file.
 */
import type { TidingsErrorCode, TidingsErrorDetails } from './TidingsError.js';

/** The only envelope major version this build understands. */
export const ENVELOPE_VERSION = 1;

/** Web Push limit on an encrypted body (RFC 8030 §7.2); 86 + 1 + 16 bytes of it are overhead. */
export const MAX_PUSH_BYTES = 4096;
export const MAX_PLAINTEXT_BYTES = MAX_PUSH_BYTES - 86 - 1 - 16;

/** RFC 8030 §5.3 urgencies, lowest first. */
export const URGENCIES = ['very-low', 'low', 'normal', 'high'] as const;
export type Urgency = (typeof URGENCIES)[number];

export type NotificationDirection = 'auto' | 'ltr' | 'rtl';

export interface EnvelopeAction {
  action: string;
  title: string;
  icon?: string;
  /** Opened when this action is clicked (allowlisted like `notification.url`). */
  url?: string;
}

export interface EnvelopeNotification {
  title?: string;
  body?: string;
  icon?: string;
  badge?: string;
  image?: string;
  tag?: string;
  renotify?: boolean;
  requireInteraction?: boolean;
  silent?: boolean;
  lang?: string;
  dir?: NotificationDirection;
  timestamp?: number;
  /** Opened on click: same-origin, or an origin in `allowedOrigins`. */
  url?: string;
  actions?: EnvelopeAction[];
  /** App data kept on the notification. */
  data?: JsonValue;
}

export interface EnvelopeCache {
  urls: string[];
  cacheName?: string;
}

/** The JSON object a tidings backend sends as the Web Push payload. */
export interface Envelope {
  v: 1;
  /** Message id: replays of an id are ignored; analytics events name it. */
  id?: string;
  /** Sent at, ms since the epoch. With `ttl` the worker drops stale messages. */
  ts?: number;
  /** Seconds the message stays worth showing after `ts`. */
  ttl?: number;
  notification?: EnvelopeNotification;
  cache?: EnvelopeCache;
  /** Routes `data` to the handler registered with `worker.on(type, fn)`. */
  type?: string;
  data?: JsonValue;
  /**
   * Sets the app badge to this count (`navigator.setAppBadge`); 0 clears it. Sent in
   * declarative form as `app_badge`. Ignored where the browser has no Badging API.
   */
  appBadge?: number;
  /** Record delivered/shown/clicked/closed events for this message (default true). */
  analytics?: boolean;
  /** An RFC 8291 aes128gcm record, base64url, whose plaintext is an envelope. */
  sealed?: string;
  /** A same-origin (or allowlisted) URL that returns the full envelope. */
  fetch?: string;
  /**
   * This delivery may repeat an earlier one of the same `id` (a queued batch run again,
   * an id the sender's caller chose): the worker reads its seen ids before it shows
   * anything. Without it a delivery is taken for the first and shown at once, under its
   * id as tag, and a repeat is caught before anything else runs. Read where the push
   * carries it, outside `sealed` and `fetch`.
   */
  retry?: boolean;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Analytics event types (DESIGN.md, backend contract). */
export const EVENT_TYPES = [
  'delivered',
  'shown',
  'clicked',
  'closed',
  'failed',
  'subscribed',
  'unsubscribed',
  'resubscribed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface TidingsEvent {
  /** Unique per event: the backend ignores a second event with the same id. */
  id: string;
  type: EventType;
  messageId?: string;
  action?: string;
  reason?: string;
  /** When it happened, ms since the epoch. */
  at: number;
  /** How many events a bounded store dropped before this one was recorded. */
  dropped?: number;
}

/** Subscription keys as `PushSubscription.toJSON()` gives them. */
export interface SubscriptionJSON {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

/** The public half of a seal key pair: the server seals envelopes to it (RFC 8291). */
export interface SealKey {
  p256dh: string;
  auth: string;
}

export type Attributes = Record<string, string | number | boolean>;

/** `POST {backend}/subscriptions` */
export interface RegisterRequest {
  subscription: SubscriptionJSON;
  sealKey?: SealKey;
  attributes?: Attributes;
  /**
   * Store this subscription without the visitor's identity, whoever the site's session
   * says they are (the page called `client.logout()`): the browser proves its keys, so
   * it can only ever detach itself.
   */
  anonymous?: boolean;
}

/** The answer to `POST {backend}/subscriptions` (201 new, 200 known). */
export interface RegisterResponse {
  id: string;
}

/**
 * `POST {backend}/events`. A worker that knows its subscription's backend id names it and
 * signs the body: header `tidings-signature: v1=<base64url HMAC-SHA256 of the body bytes>`,
 * keyed by HKDF-SHA256(the subscription's auth secret, empty salt, "tidings events v1", 32
 * bytes). Only signed events count in the figures (docs/insight.md).
 */
export interface EventsRequest {
  subscription?: string;
  events: TidingsEvent[];
}

/** Marker the worker puts in `notification.data` so it only handles its own clicks. */
export const NOTIFICATION_MARKER = '__tidings';

/** What the worker keeps in `notification.data[NOTIFICATION_MARKER]`. */
export interface NotificationMark {
  messageId?: string;
  url?: string;
  actions?: Record<string, string>;
  analytics: boolean;
}

/** Every page<->worker message carries this tag; anything without it is not ours. */
export const MESSAGE_SOURCE = 'tidings';

/** Worker -> page: app data from a push, for `client.onMessage`. */
export interface PushDataMessage {
  source: typeof MESSAGE_SOURCE;
  kind: 'push-data';
  data: JsonValue | undefined;
  envelope: Envelope;
}

/** Worker -> page: the subscription changed under the page (pushsubscriptionchange). */
export interface SubscriptionChangedMessage {
  source: typeof MESSAGE_SOURCE;
  kind: 'subscription-changed';
  endpoint: string | null;
}

/** Worker -> page: a tidings notification was clicked; posted to the tab it focused, navigated or opened. */
export interface NotificationClickMessage {
  source: typeof MESSAGE_SOURCE;
  kind: 'notification-click';
  /** The action button clicked, or '' for the notification itself. */
  action: string;
  messageId?: string;
  /** The URL the tab was sent to (after the allowlist). */
  url: string;
  /** The app data of `notification.data` in the envelope. */
  data?: JsonValue;
}

/** Page -> worker: flush the analytics outbox / pending registration now. */
export interface FlushMessage {
  source: typeof MESSAGE_SOURCE;
  kind: 'flush';
}

/**
 * Page -> worker requests. The worker owns IndexedDB and backend sync, so the page asks
 * it. Each request carries a MessagePort (`event.ports[0]`); the worker posts on it an
 * empty ack at once (so the page learns a tidings worker listens), then a PageAnswer.
 */
export type PageRequest = SyncRequest | UnsyncRequest | StateRequest | PromptRequest;

/** How the worker reaches the backend for one request: the page's options, headers resolved. */
export interface BackendRoute {
  /** Absolute base URL of the HTTP contract; absent when the page has a BackendAdapter (see AdapterCall). */
  backend?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** ms before a backend request is abandoned and retried. */
  timeout: number;
}

/**
 * Register (or refresh) `registration`, sending nothing when the backend already has it;
 * without `registration`, run the queued operation. Answers true when nothing is left
 * queued, false when the registration is queued for a later try.
 */
export interface SyncRequest extends BackendRoute {
  source: typeof MESSAGE_SOURCE;
  kind: 'sync';
  registration?: {
    subscription: SubscriptionJSON;
    /** The VAPID key the subscription was made with (base64url, or base64: the worker normalises it). */
    vapidPublicKey: string;
    /** Merged over the attributes the worker keeps; absent, those are kept as they are. */
    attributes?: Attributes | undefined;
    /** `attributes` replace the kept ones instead (`setAttributes`). */
    replace?: boolean | undefined;
    /** Register this browser's seal key, which the worker makes and keeps. */
    sealed?: boolean | undefined;
    /**
     * true (`logout()`): register without the visitor's identity from now on; false
     * (`login()`): register now, under whoever the backend says is logged in, and from
     * then on as before; absent: as last time.
     */
    anonymous?: boolean | undefined;
  };
}

/** Delete the registration from the backend and forget it. Answers false when the DELETE is queued. */
export interface UnsyncRequest extends BackendRoute {
  source: typeof MESSAGE_SOURCE;
  kind: 'unsync';
}

/** Read what the backend last acknowledged and what is queued. Answers StoredSync. */
export interface StateRequest {
  source: typeof MESSAGE_SOURCE;
  kind: 'state';
}

/** Read the soft prompt's back-off (PromptRecord, or undefined); with `later`, record one more "later" first. */
export interface PromptRequest {
  source: typeof MESSAGE_SOURCE;
  kind: 'prompt';
  later?: boolean;
}

/**
 * What the worker answers a StateRequest with: from kv `sync`, the endpoint, backend id
 * and time the backend last acknowledged; from kv `pending`, the queued operation's
 * progress (not its subscription: the page needs no more, and diagnose() shows it as is);
 * and the attributes this browser keeps (the queued registration's, else the last one's).
 */
export interface StoredSync {
  endpoint?: string | undefined;
  backendId?: string | undefined;
  syncedAt?: number | undefined;
  attributes?: Attributes | undefined;
  pending?: { op: 'register' | 'unregister'; attempts: number; lastError?: string; nextAttemptAt?: number } | undefined;
}

/** The soft prompt's back-off: how many "later"s so far, and when it may show again (ms since the epoch). */
export interface PromptRecord {
  laters: number;
  nextAt: number;
}

/** Worker -> page on a request's port: the value, or the TidingsError to throw in the page. */
export type PageAnswer =
  | { ok: true; value: unknown }
  | { ok: false; error: { code: TidingsErrorCode; details: TidingsErrorDetails } };

/**
 * Worker -> page on a request's port, when the page's `backend` is a BackendAdapter
 * (functions cannot be posted): call `adapter[call](arg)` and answer an AdapterAnswer on
 * the port sent with this message.
 */
export interface AdapterCall {
  call: 'register' | 'unregister';
  arg: RegisterRequest | string;
}

/** Page -> worker: what the adapter returned, or why it threw (`status` as an HTTP status). */
export type AdapterAnswer = { ok: true; value: unknown } | { ok: false; error: { message: string; status?: number } };

export type WorkerToPageMessage = PushDataMessage | SubscriptionChangedMessage | NotificationClickMessage;
export type PageToWorkerMessage = FlushMessage | PageRequest;
export type TidingsMessage = WorkerToPageMessage | PageToWorkerMessage;

const KINDS = ['push-data', 'subscription-changed', 'notification-click', 'flush', 'sync', 'unsync', 'state', 'prompt'];

/** True when `value` is a message of the tidings page<->worker protocol. */
export function isTidingsMessage(value: unknown): value is TidingsMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { source, kind } = value as { source?: unknown; kind?: unknown };
  return source === MESSAGE_SOURCE && KINDS.includes(kind as string);
}

/** A site's own way to reach its backend, instead of the HTTP contract at a base URL. */
export interface BackendAdapter {
  /** Stores the subscription (idempotent on its endpoint) and answers its id. */
  register(request: RegisterRequest): Promise<RegisterResponse>;
  /** Forgets the subscription with this id. An unknown id is not an error. */
  unregister(id: string): Promise<void>;
}

/** Extra request headers (auth, CSRF), or a function that returns them before each request. */
export type BackendHeaders =
  | Record<string, string>
  | (() => Record<string, string> | Promise<Record<string, string>>);
