import type { Attributes, Envelope, JsonValue } from '../shared/protocol.js';
import type { Diagnosis } from './diagnose.js';

/** Where push stands on this page. */
export interface PushState {
  /** `isSupported()`. */
  supported: boolean;
  /** The notification permission (`'default'` where notifications are unsupported). */
  permission: NotificationPermission;
  /** The browser holds a push subscription made with this VAPID key. */
  subscribed: boolean;
  /** The backend holds that subscription as it is now, and nothing is queued. */
  synced: boolean;
  /** Origin of the subscription's endpoint (the endpoint itself is a secret). */
  endpointOrigin?: string;
  /**
   * The attributes this browser keeps with its subscription (the ones it registered, or
   * is about to): what `setAttributes` chose, merged with the options' `attributes`.
   * Absent when not subscribed.
   */
  attributes?: Attributes | undefined;
  /** Message of the last failure: of the last call, or of the queued registration. */
  lastError?: string | undefined;
}

/** A click on a notification tidings showed, as the worker reports it to the tab it focused, navigated or opened. */
export interface NotificationClickInfo<ClickData = JsonValue> {
  /** The action button clicked, or `''` for the notification itself. */
  action: string;
  /** The URL the tab was sent to (after the worker's allowlist). */
  url: string;
  /** The envelope's `id`, if it had one. */
  messageId?: string | undefined;
  /** The envelope's `notification.data`, if any. */
  data?: ClickData | undefined;
}

/**
 * The page client. `Data` is the type of the envelopes' `data` that reaches
 * `onMessage`: tidings does not check it, the backend that sends it vouches for it.
 */
export interface PushClient<Data = JsonValue> {
  /** Where push stands now. Sends nothing. */
  getState(): Promise<PushState>;
  /** Asks for notification permission. Call it from a user gesture (a click): tidings never asks on its own. */
  requestPermission(): Promise<NotificationPermission>;
  /**
   * Asks for permission if it is `'default'` (so call it from a click), subscribes with the
   * VAPID key (or reuses the subscription) and registers it with the backend. When the
   * backend is down the registration is queued and retried, and this resolves with
   * `synced: false`.
   */
  subscribe(): Promise<PushState>;
  /** Unsubscribes and tells the backend (DELETE). */
  unsubscribe(): Promise<PushState>;
  /**
   * Call when the visitor logs out (a shared computer): the backend keeps this browser's
   * subscription without the identity `identify` gave it, so pushes to that person no
   * longer reach this browser, and it registers anonymously until `login()`. With
   * `{ unsubscribe: true }` the subscription is dropped instead (`unsubscribe()`).
   */
  logout(options?: { unsubscribe?: boolean }): Promise<PushState>;
  /**
   * Call after the visitor logs in: registers this browser again now, so the backend
   * binds it to whoever `identify` says is logged in (the next person on a shared
   * computer), and ends an earlier `logout()`.
   */
  login(): Promise<PushState>;
  /**
   * Replaces the attributes this browser keeps with its subscription (a visitor's topics,
   * language); re-registers only if they changed. They are kept by the worker with the
   * subscription, so a reload, a new subscription (key change, expiry) or the browser's
   * `pushsubscriptionchange` registers them again; a client created without
   * `attributes` keeps them. `setAttributes({})` clears them; unsubscribing forgets them.
   * Set before `subscribe()`, they go with the subscription this page makes.
   */
  setAttributes(attributes: Attributes): Promise<void>;
  /**
   * Calls `fn` with the data of each push the worker forwards to open tabs (`undefined`
   * when the push had none: a notification forwarded to a tab in front). Returns a
   * function that stops it.
   */
  onMessage(fn: (data: Data | undefined, envelope: Envelope) => void): () => void;
  /**
   * Calls `fn` when a notification tidings showed is clicked and the worker sends this
   * tab there (focused, navigated or opened). Returns a function that stops it. A tab the
   * click opens hears it only if it listens before its `DOMContentLoaded`.
   */
  onNotificationClick<ClickData = JsonValue>(fn: (click: NotificationClickInfo<ClickData>) => void): () => void;
  /** Calls `fn` when the permission, the subscription or its sync changes. Returns a function that stops it. */
  onStateChange(fn: (state: PushState) => void): () => void;
  /** What a bug report needs: why push does or does not work here. Never throws. */
  diagnose(): Promise<Diagnosis>;
}
