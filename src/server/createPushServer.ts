import type { Envelope, SealKey } from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';
import { createHandler } from './createHandler.js';
import { createSender } from './createSender.js';
import { createDeliveryPolicy } from './createDeliveryPolicy.js';
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
   * Hosts subscription endpoints may name: exact names, `*.` for any subdomain of one,
   * `host:port` for another port than 443; `'any'` for every public host on 443. Checked
   * at registration and again at send; whatever the list, the address a send connects
   * to is never loopback (unless allowed above), private, link-local or unspecified.
   * @default ['fcm.googleapis.com', 'updates.push.services.mozilla.com', '*.push.apple.com', '*.notify.windows.com']
   */
  pushServices?: string[] | 'any';
  /** Consecutive failures (network, timeout, 5xx) after which a push-service host is skipped. @default 10 */
  circuitBreakerFailures?: number;
  /** ms a host is skipped once it ran out of failures; its subscriptions fail with `circuit-open`. @default 60000 */
  circuitBreakerCoolDown?: number;
  /** Days a subscription may keep failing (never `gone`) before a send deletes it. @default 7 */
  pruneFailingAfterDays?: number;
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
  const policy = createDeliveryPolicy(vapid, options);
  const maxBodyBytes = positive(options.maxBodyBytes, requestLimits.body, 'maxBodyBytes');

  const sender = createSender({ store, publicPath: basePath, concurrency, policy });

  async function send(message: Envelope, sendOptions: SendOptions = {}): Promise<SendResult> {
    const prepared = sender.prepare(message, sendOptions);
    const result: SendResult = { id: prepared.envelope.id, sent: 0, gone: 0, failed: 0, pruned: 0, errors: [] };
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

function invalid(option: string, reason: string): never {
  throw new TidingsError('invalid-option', { option, reason });
}
