import type { Urgency } from '../shared/protocol.js';
import type { UnsealKey } from '../shared/aes128gcm.js';

/** One message a push service holds for a subscription until it is delivered (and acked) or expires. */
export interface QueuedMessage {
  id: string;
  /** Unique per message: Firefox ignores a repeated version. */
  version: string;
  body: Buffer;
  /** `aes128gcm`, or undefined for a push without data. */
  encoding: string | undefined;
  ttl: number;
  urgency: Urgency;
  topic: string | undefined;
  /** ms since the epoch. */
  receivedAt: number;
  expiresAt: number;
  /** The HTTP version the application server pushed it over: `1.1` or `2.0`. */
  httpVersion: string;
}

/** A push subscription on the local service: a headless subscriber's, or a Firefox channel's. */
export interface Channel {
  token: string;
  endpoint: string;
  /** The VAPID key the subscription is restricted to (base64url), if any. */
  applicationServerKey: string | undefined;
  /** Unsubscribed or expired: sends get 410. */
  gone: boolean;
  queue: QueuedMessage[];
  /** Keys a headless subscriber decrypts with. */
  headless?: UnsealKey;
  /** Mozilla protocol: which user agent and channel this is. */
  uaid?: string;
  channelID?: string;
}

/** What the HTTP and WebSocket halves of the local push service share. */
export interface PushState {
  /** `http://127.0.0.1:PORT` (or https). */
  origin: string;
  channels: Map<string, Channel>;
  byEndpoint: Map<string, Channel>;
  now(): number;
  /** Authorization headers that verified, with their key and `exp` (s): a sender reuses one token for many messages. */
  verified: Map<string, { publicKey: string; exp: number }>;
  /** Sends a message to a connected user agent now; false when it is not connected. */
  deliver(channel: Channel, message: QueuedMessage): boolean;
}

/** Drops a channel's expired messages and returns what is left. */
export function liveMessages(state: PushState, channel: Channel): QueuedMessage[] {
  const now = state.now();
  channel.queue = channel.queue.filter((message) => message.expiresAt > now);
  return channel.queue;
}
