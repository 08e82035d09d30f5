import type { Envelope, SealKey } from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';
import { createHandler } from './createHandler.js';
import { createSender } from './createSender.js';
import { createVapidSigner } from './createVapidSigner.js';
import { checkVapidDetails, type VapidDetails } from './generateVapidKeys.js';
import { pagedSubscriptions } from './pagedSubscriptions.js';
import { requestLimits } from './requestLimits.js';
import { seal } from './seal.js';
import type { SendOptions, SendResult } from './sendTypes.js';
import type { SubscriptionStore } from './SubscriptionStore.js';
import { toSubscriptionQuery } from './toSubscriptionQuery.js';

export type { SendError, SendOptions, SendResult } from './sendTypes.js';

export interface PushServerOptions {
  /** The VAPID key pair (see `generateVapidKeys`) and a `mailto:` or `https:` contact. */
  vapid: VapidDetails;
  /** Where subscriptions, events and large messages live: `memoryStore()`, `sqliteStore(file)` or your own. */
  store: SubscriptionStore;
  /** Where `handler` is mounted; also the prefix of `fetch` URLs. @default '/api/push' */
  basePath?: string;
  /** Pushes in flight at once during a send. @default 50 */
  concurrency?: number;
  /** ms to wait for a push service before the attempt counts as failed. @default 10000 */
  timeout?: number;
  /** Further attempts after a 429, 5xx, network error or timeout. @default 2 */
  retries?: number;
  /** Longest wait before a retry, in ms; a longer Retry-After is cut to this. @default 30000 */
  maxRetryDelay?: number;
  /** Largest request body the handler reads; larger gets 413. @default 65536 */
  maxBodyBytes?: number;
  /**
   * Accept subscriptions whose endpoint is on loopback (`http://127.0.0.1:…`), as the
   * local push service of `tidings/testing` hands out. Off in production: registration is
   * open to anyone, and sends would then reach services on the backend's own host.
   * @default false
   */
  allowLoopbackEndpoints?: boolean;
  /**
   * The site's address (`https://example.com/`): relative URLs of declarative sends
   * (`send(…, { declarative: true })`) are made absolute against it, and a notification
   * without `url` opens it. Without it such sends accept absolute URLs only.
   */
  siteUrl?: string;
}

export interface PushServer {
  /** The backend HTTP contract (DESIGN.md) as a Fetch-API handler; `toNodeHandler` mounts it on node:http. */
  handler(request: Request): Promise<Response>;
  /** Sends an envelope to subscriptions: sealed where the client registered a seal key, by `fetch` when too large. */
  send(message: Envelope, options?: SendOptions): Promise<SendResult>;
  /** Seals an envelope to a seal key: an RFC 8291 record, base64url. */
  seal(message: Envelope, sealKey: SealKey): string;
}

/** Creates the backend half of tidings. Options are checked here, once; a bad one throws TidingsError `invalid-option`. */
export function createPushServer(options: PushServerOptions): PushServer {
  const vapid = checkVapidDetails(options?.vapid);
  const store = options.store;
  if (!store || typeof store.findSubscriptions !== 'function') invalid('store', 'not a SubscriptionStore');
  const basePath = (options.basePath ?? '/api/push').replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)*$/.test(basePath)) invalid('basePath', 'must be a path like /api/push');
  const concurrency = positive(options.concurrency, 50, 'concurrency');
  const policy = {
    authorization: createVapidSigner(vapid),
    timeout: positive(options.timeout, 10_000, 'timeout'),
    retries: positive(options.retries, 2, 'retries', 0),
    maxRetryDelay: positive(options.maxRetryDelay, 30_000, 'maxRetryDelay', 0),
  };
  const maxBodyBytes = positive(options.maxBodyBytes, requestLimits.body, 'maxBodyBytes');

  const siteUrl = options.siteUrl;
  if (siteUrl !== undefined && !isHttpUrl(siteUrl)) invalid('siteUrl', 'must be an absolute http(s) URL');
  const sender = createSender({ store, publicPath: basePath, concurrency, policy, siteUrl });

  async function send(message: Envelope, sendOptions: SendOptions = {}): Promise<SendResult> {
    const prepared = sender.prepare(message, sendOptions);
    const result: SendResult = { id: prepared.envelope.id, sent: 0, gone: 0, failed: 0, errors: [] };
    await sender.sendTo(prepared, pagedSubscriptions(store, toSubscriptionQuery(sendOptions.to)), result);
    return result;
  }

  return {
    handler: createHandler({ store, basePath, maxBodyBytes, allowLoopbackEndpoints: options.allowLoopbackEndpoints === true }),
    send,
    seal,
  };
}

function positive(value: number | undefined, fallback: number, option: string, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) invalid(option, `must be an integer >= ${min}`);
  return value;
}

function isHttpUrl(value: unknown): boolean {
  try {
    return /^https?:$/.test(new URL(value as string).protocol);
  } catch {
    return false;
  }
}

function invalid(option: string, reason: string): never {
  throw new TidingsError('invalid-option', { option, reason });
}
