import { MAX_PLAINTEXT_BYTES, URGENCIES, type Envelope, type SealKey, type Urgency } from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';
import { validateEnvelope } from '../shared/validateEnvelope.js';
import { createHandler } from './createHandler.js';
import { createVapidSigner } from './createVapidSigner.js';
import { deliver, type DeliveryOutcome, type PushHeaders } from './deliver.js';
import { checkVapidDetails, type VapidDetails } from './generateVapidKeys.js';
import { newId, newMessageId } from './newId.js';
import { pagedSubscriptions } from './pagedSubscriptions.js';
import { requestLimits } from './requestLimits.js';
import { seal } from './seal.js';
import type { StoredSubscription, SubscriptionQuery, SubscriptionStore } from './SubscriptionStore.js';

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
}

export interface SendOptions {
  /** Subscription ids, or attributes every target must match. @default every subscription */
  to?: string | string[] | { attributes: Record<string, unknown> };
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
  errors: SendError[];
}

export interface PushServer {
  /** The backend HTTP contract (DESIGN.md) as a Fetch-API handler; `toNodeHandler` mounts it on node:http. */
  handler(request: Request): Promise<Response>;
  /** Sends an envelope to subscriptions: sealed where the client registered a seal key, by `fetch` when too large. */
  send(message: Envelope, options?: SendOptions): Promise<SendResult>;
  /** Seals an envelope to a seal key: an RFC 8291 record, base64url. */
  seal(message: Envelope, sealKey: SealKey): string;
}

const DEFAULT_TTL = 2_419_200;

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

  async function send(message: Envelope, sendOptions: SendOptions = {}): Promise<SendResult> {
    const envelope = validateEnvelope(message);
    const id = (envelope.id ??= newMessageId());
    const headers = pushHeaders(sendOptions);
    const targets = pagedSubscriptions(store, query(sendOptions.to));
    const expiresAt = Date.now() + Math.max(headers.ttl, 86_400) * 1000;
    const plain = JSON.stringify(envelope);

    // Too large for a push: store it once and push a pointer the worker fetches.
    const pointer = async (body: string): Promise<string> => {
      const key = newId();
      await store.saveMessage(key, body, expiresAt);
      const ref: Envelope = { v: 1, id, fetch: `${basePath}/messages/${key}` };
      if (envelope.ts !== undefined) ref.ts = envelope.ts;
      if (envelope.ttl !== undefined) ref.ttl = envelope.ttl;
      return JSON.stringify(ref);
    };
    let shared: Promise<string> | undefined;
    const payloadFor = (entry: StoredSubscription): Promise<string> | string => {
      if (entry.sealKey && sendOptions.seal !== false) {
        const sealed = JSON.stringify({ v: 1, id, sealed: seal(envelope, entry.sealKey) });
        return fits(sealed) ? sealed : pointer(sealed);
      }
      if (fits(plain)) return plain;
      return (shared ??= pointer(plain));
    };

    const result: SendResult = { id, sent: 0, gone: 0, failed: 0, errors: [] };
    // The workers share one reader of the store; an async generator answers their
    // next() calls one after another, so each subscription goes to exactly one worker.
    const worker = async (): Promise<void> => {
      for (let next = await targets.next(); !next.done; next = await targets.next()) {
        const entry = next.value;
        // A store or sealing error fails this subscription, not the whole send.
        const outcome: DeliveryOutcome = await Promise.resolve()
          .then(() => payloadFor(entry))
          .then((payload) => deliver(entry, payload, headers, policy))
          .catch((cause: unknown) => ({ outcome: 'failed', reason: String(cause) }));
        if (outcome.outcome === 'sent') result.sent++;
        else if (outcome.outcome === 'gone') {
          result.gone++;
          await store.deleteSubscription(entry.id);
        } else {
          result.failed++;
          const error: SendError = { subscriptionId: entry.id, endpoint: entry.subscription.endpoint, reason: outcome.reason };
          if (outcome.status !== undefined) error.status = outcome.status;
          result.errors.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return result;
  }

  return {
    handler: createHandler({ store, basePath, maxBodyBytes, allowLoopbackEndpoints: options.allowLoopbackEndpoints === true }),
    send,
    seal,
  };
}

function fits(payload: string): boolean {
  return Buffer.byteLength(payload, 'utf8') <= MAX_PLAINTEXT_BYTES;
}

function pushHeaders(options: SendOptions): PushHeaders {
  const ttl = options.ttl ?? DEFAULT_TTL;
  if (!Number.isInteger(ttl) || ttl < 0) invalid('ttl', 'must be a whole number of seconds >= 0');
  const urgency = options.urgency ?? 'normal';
  if (!URGENCIES.includes(urgency)) invalid('urgency', `must be one of ${URGENCIES.join(', ')}`);
  const headers: PushHeaders = { ttl, urgency };
  if (options.topic !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(options.topic)) invalid('topic', 'must be 1-32 base64url characters');
    headers.topic = options.topic;
  }
  return headers;
}

function query(to: SendOptions['to']): SubscriptionQuery {
  if (to === undefined) return {};
  if (typeof to === 'string') return { ids: [to] };
  if (Array.isArray(to)) {
    if (!to.every((id) => typeof id === 'string')) invalid('to', 'ids must be strings');
    return { ids: to };
  }
  if (typeof to === 'object' && to !== null && typeof to.attributes === 'object' && to.attributes !== null) {
    const attributes: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(to.attributes)) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        invalid(`to.attributes.${key}`, 'must be a string, number or boolean');
      }
      attributes[key] = value;
    }
    return { attributes };
  }
  return invalid('to', 'must be an id, a list of ids or {attributes}');
}

function positive(value: number | undefined, fallback: number, option: string, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) invalid(option, `must be an integer >= ${min}`);
  return value;
}

function invalid(option: string, reason: string): never {
  throw new TidingsError('invalid-option', { option, reason });
}
