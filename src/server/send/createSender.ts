import { MAX_PLAINTEXT_BYTES, URGENCIES, type Envelope } from '../../shared/protocol.js';
import { invalidOption as invalid } from '../common/checkOptions.js';
import { validateEnvelope } from '../../shared/validateEnvelope.js';
import type { DeliveryOutcome, DeliveryPolicy, PushHeaders } from './deliver.js';
import { runDeliveries } from './runDeliveries.js';
import { newId, newMessageId } from '../crypto/newId.js';
import { seal } from '../crypto/seal.js';
import { markRetry } from './markRetry.js';
import { toDeclarative } from './toDeclarative.js';
import type { StoredSubscription, SubscriptionStore } from '../stores/SubscriptionStore.js';
import type { SendError, SendOptions, SendResult } from './sendTypes.js';

const DEFAULT_TTL = 2_419_200;

export interface SenderOptions {
  store: SubscriptionStore;
  /** The public prefix of `fetch` pointers (where the handler is reachable from browsers). */
  publicPath: string;
  /** Pushes in flight at once. */
  concurrency: number;
  policy: DeliveryPolicy;
  /** What relative URLs of declarative sends are made absolute against. */
  siteUrl?: string | undefined;
}

/** One message, checked and fixed once (its id included), ready to go to any number of batches. */
export interface PreparedMessage {
  envelope: Envelope & { id: string };
  headers: PushHeaders;
  seal: boolean;
  /** When a stored `fetch` body may be dropped, ms since the epoch. */
  expiresAt: number;
  /** With `declarative`: the one payload every subscriber gets. */
  declarative?: string;
  /**
   * Mark every payload as a delivery that may repeat an earlier one (markRetry), so the
   * worker checks its seen ids before it shows the message. Set for an id the caller chose
   * (it may send that id again), and by the queue for a batch that runs again.
   */
  retry?: boolean;
}

/**
 * Called with each subscription's outcome before the store hears of it (a gone one is
 * deleted after), so a durable sender can record it first: the queue counts each
 * subscriber once however often its batch runs. A rejection fails the send.
 */
export type OutcomeHook = (entry: StoredSubscription, outcome: DeliveryOutcome) => Promise<void> | void;

export interface Sender {
  /** Validates the envelope and the options; gives the envelope its id if it had none. */
  prepare(message: Envelope, options?: SendOptions): PreparedMessage;
  /**
   * Pushes the message to every subscription `targets` yields, `concurrency` at a time,
   * adding to `result`. Gone subscriptions are deleted from the store.
   */
  sendTo(
    message: PreparedMessage,
    targets: AsyncIterator<StoredSubscription> | Iterator<StoredSubscription>,
    result: SendResult,
    onOutcome?: OutcomeHook,
  ): Promise<void>;
}

/**
 * The send loop that `send()` and the queue's senders share: payload per subscription
 * (sealed, plain, or a `fetch` pointer when too large), delivery, and what becomes of
 * each subscription.
 */
export function createSender({ store, publicPath, concurrency, policy, siteUrl }: SenderOptions): Sender {
  function prepare(message: Envelope, options: SendOptions = {}): PreparedMessage {
    const envelope = validateEnvelope(message);
    const headers = pushHeaders(options);
    const prepared: PreparedMessage = {
      envelope: envelope as Envelope & { id: string },
      headers,
      seal: options.seal !== false,
      expiresAt: Date.now() + Math.max(headers.ttl, 86_400) * 1000,
      // Only an id made here is known to be new: one the caller chose may have gone out
      // before (the caller's own retries), unless the envelope says `retry: false`.
      retry: envelope.retry ?? envelope.id !== undefined,
    };
    envelope.id ??= newMessageId();
    if (options.declarative) {
      // A browser that shows the message itself can neither open a seal nor follow a pointer.
      if (options.seal === true) invalid('seal', 'a sealed message cannot be declarative');
      prepared.declarative = JSON.stringify(toDeclarative(envelope, siteUrl));
      if (!fits(prepared.declarative)) invalid('declarative', 'too large for one push, and a declarative message cannot be fetched');
    }
    return prepared;
  }

  async function sendTo(
    message: PreparedMessage,
    targets: AsyncIterator<StoredSubscription> | Iterator<StoredSubscription>,
    result: SendResult,
    onOutcome?: OutcomeHook,
  ): Promise<void> {
    const { envelope, headers } = message;
    const id = envelope.id;
    // A delivery that may repeat an earlier one says so (markRetry).
    const mark = (payload: string): string => (message.retry ? markRetry(payload) : payload);
    const text = JSON.stringify(envelope);
    const plain = mark(text);
    const declarative = message.declarative && mark(message.declarative);

    // Too large for a push: store it once and push a pointer the worker fetches.
    const pointer = async (body: string): Promise<Uint8Array> => {
      const key = newId();
      await store.saveMessage(key, body, message.expiresAt);
      const ref: Envelope = { v: 1, id, fetch: `${publicPath}/messages/${key}` };
      if (envelope.ts !== undefined) ref.ts = envelope.ts;
      if (envelope.ttl !== undefined) ref.ttl = envelope.ttl;
      return Buffer.from(mark(JSON.stringify(ref)));
    };
    // What every subscription without a seal key gets: made into bytes once.
    let sharedBytes: Promise<Uint8Array> | Uint8Array | undefined;
    const payloadFor = (entry: StoredSubscription): Promise<Uint8Array> | Uint8Array => {
      if (declarative) return (sharedBytes ??= Buffer.from(declarative));
      if (entry.sealKey && message.seal) {
        const sealed = JSON.stringify({ v: 1, id, sealed: seal(envelope, entry.sealKey) });
        const payload = mark(sealed);
        return fits(payload) ? Buffer.from(payload) : pointer(sealed);
      }
      return (sharedBytes ??= fits(plain) ? Buffer.from(plain) : pointer(text));
    };

    // What becomes of each subscription, in the order outcomes arrive.
    const done = async (entry: StoredSubscription, outcome: DeliveryOutcome): Promise<void> => {
      if (onOutcome) await onOutcome(entry, outcome);
      if (outcome.outcome === 'sent') {
        result.sent++;
        // Only a subscription that was failing needs a write when it works again.
        if (entry.failingSince !== undefined) await bookkeeping(store.markDelivery(entry.id, false, Date.now()));
      } else if (outcome.outcome === 'gone') {
        result.gone++;
        await store.deleteSubscription(entry.id);
      } else {
        result.failed++;
        const error: SendError = { subscriptionId: entry.id, endpoint: entry.subscription.endpoint, reason: outcome.reason };
        if (outcome.status !== undefined) error.status = outcome.status;
        result.errors.push(error);
        if (!outcome.ours) await failing(entry, result);
      }
    };
    await runDeliveries(targets, { concurrency, policy, headers, payloadFor, done });
  }

  /**
   * A subscription that keeps failing without ever being `gone` (a push service that
   * refuses it, an endpoint no longer allowed) is deleted once it has failed for
   * `pruneFailingAfter` (Mastodon's rule, PUSH-FACTS 7); the first failure of a run is
   * recorded so that the time can be told.
   */
  async function failing(entry: StoredSubscription, result: SendResult): Promise<void> {
    const now = Date.now();
    if (entry.failingSince === undefined) return bookkeeping(store.markDelivery(entry.id, true, now));
    if (now - entry.failingSince <= policy.pruneFailingAfter) return;
    if (await bookkeeping(store.deleteSubscription(entry.id))) result.pruned++;
  }

  return { prepare, sendTo };
}

/** Pruning records are bookkeeping: a store that fails them fails no push and no send. */
async function bookkeeping<T>(write: Promise<T>): Promise<T | undefined> {
  return write.catch(() => undefined);
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

