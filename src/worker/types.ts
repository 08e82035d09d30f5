// The public types of tidings/worker in one place, like protocol.ts for the wire.
import type { Envelope, JsonValue } from '../shared/protocol.js';

/** A notification tidings shows of its own making (the default notification). */
export interface NotificationSpec {
  title: string;
  body?: string;
  icon?: string;
  badge?: string;
  /** Default 'tidings', so default notifications replace each other instead of piling up. */
  tag?: string;
}

export interface PushWorkerOptions {
  /**
   * Base URL of the backend HTTP contract (`'/api/push'`): events go to
   * `{backend}/events`, re-registrations to `{backend}/subscriptions`.
   * Default none: then no analytics are kept or sent, and nothing is re-registered.
   */
  backend?: string;
  /** The VAPID public key (base64url), to subscribe again when the browser drops the subscription. Default none. */
  vapidPublicKey?: string;
  /** Shown when a push would otherwise show nothing. Default: the site's host name, body 'New notification'. */
  defaultNotification?: NotificationSpec;
  /** Other origins that click URLs, `cache.urls` and `fetch` may use. Same-origin is always allowed. Default []. */
  allowedOrigins?: string[];
  /**
   * When a tab of the site is focused and visible: show the notification ('notify'),
   * post it to the tab instead ('message'), or both. Default 'both'.
   */
  foreground?: 'notify' | 'message' | 'both';
  /** Leave pushes that are not tidings envelopes to the worker's other push listeners. Default false. */
  ignoreForeign?: boolean;
  /**
   * Cache Storage for `cache.urls`: its name (default 'tidings'), other caches a push may
   * name in `cache.cacheName` (default none: a name not listed gets the default cache),
   * and how many entries each keeps, oldest out (default 50).
   */
  cache?: { name?: string; names?: string[]; maxEntries?: number };
  /**
   * Analytics events (delivered, shown, clicked, closed, failed, resubscribed). `false`
   * turns them off; an object sets the batch size per request (default 20) and how many
   * events wait at most in IndexedDB (default 1000; the oldest are dropped and counted).
   * Default true.
   */
  analytics?: boolean | { batchSize?: number; maxQueue?: number };
  /** ms a handler, a fetch or a backend request may take before it counts as failed. Default 10000. */
  timeout?: number;
}

/** What a handler registered with `on(type)` is given beside the envelope's `data`. */
export interface PushContext {
  envelope: Envelope;
  event: PushEvent;
  /** Shows a notification as tidings' own: its clicks are handled and it counts as shown. */
  showNotification(title: string, options?: NotificationOptions): Promise<void>;
}

/**
 * A handler for one envelope `type`: a function, or an object with `handle`. `Data` is
 * what the backend sends as `data` for that type; the worker checks it is JSON, not its shape.
 */
export type PushHandler<Data = JsonValue | undefined> =
  | ((data: Data, context: PushContext) => unknown)
  | { handle(data: Data, context: PushContext): unknown };

/** The notification a push is about to show; `notificationWillShow` may edit it. */
export interface NotificationDraft {
  title: string;
  options: NotificationOptions & Record<string, unknown>;
  envelope: Envelope;
}

export interface NotificationClick {
  notification: Notification;
  /** The action button clicked, or '' for the notification itself. */
  action: string;
  /** Where the click went (after the allowlist). */
  url: string;
  /** The tab that was focused, navigated or opened, if the browser gave one. */
  client: WindowClient | null;
  messageId?: string;
}

export interface PushFailure {
  /** Why: 'empty', 'utf8', 'json', 'unknown-version', 'unseal', 'fetch', 'stale', 'replayed', 'url-refused', 'cache', 'handler', 'timeout', ... */
  reason: string;
  error?: unknown;
  messageId?: string;
}

/** Plugins: objects with optional hook methods. Each runs in the order given to `use()`; a hook that throws is ignored. */
export interface PushHooks {
  /** Before a push's notification is shown: edit `draft`, return a new one, or return false to show nothing. */
  notificationWillShow?(draft: NotificationDraft): NotificationDraft | false | void | Promise<NotificationDraft | false | void>;
  notificationDidShow?(draft: NotificationDraft): unknown;
  notificationDidClick?(click: NotificationClick): unknown;
  notificationDidClose?(notification: Notification): unknown;
  /** A push, click or background step failed; the failure is also recorded as a `failed` event. */
  pushDidFail?(failure: PushFailure): unknown;
  /** The browser changed or dropped the subscription; `subscription` is the one now registered (or null). */
  subscriptionDidChange?(subscription: PushSubscription | null): unknown;
}

export interface PushWorker {
  /** Adds the push, notificationclick, notificationclose, pushsubscriptionchange, message and sync listeners (once). */
  listen(): PushWorker;
  /** Handles one push event, for sites that wire their own listeners. */
  handlePush(event: PushEvent): void;
  /** Handles a click on a tidings notification; clicks on other notifications are left alone. */
  handleNotificationClick(event: NotificationEvent): void;
  handleNotificationClose(event: NotificationEvent): void;
  /** Handles `pushsubscriptionchange`: subscribes again if needed and re-registers with the backend. */
  handleSubscriptionChange(event: ExtendableEvent): void;
  /** Answers the page SDK's messages (its requests for storage and backend sync); others are left alone. */
  handleMessage(event: ExtendableMessageEvent): void;
  /**
   * Routes envelopes with this `type` to `handler`, with their `data`, typed as `Data`
   * (`worker.on<ChatMessage>('chat', (message) => …)`); default `JsonValue | undefined`.
   */
  on<Data = JsonValue | undefined>(type: string, handler: PushHandler<Data>): PushWorker;
  use(hooks: PushHooks): PushWorker;
}
