import { MAX_PLAINTEXT_BYTES, URGENCIES, type Envelope } from '../../shared/protocol.js';
import { invalidOption as invalid } from '../common/checkOptions.js';
import { validateEnvelope } from '../../shared/validateEnvelope.js';
import type { DeliveryOutcome, DeliveryPolicy, PushHeaders } from './deliver.js';
import { runDeliveries } from './runDeliveries.js';
import { newId, newMessageId } from '../crypto/newId.js';
import { seal } from '../crypto/seal.js';
import { markRetry } from './markRetry.js';
import { toDeclarative } from './toDeclarative.js';
import { bestLanguage, localizedEnvelopes } from '../controls/locales.js';
import type { Pacer } from '../controls/createPacer.js';
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
  /**
   * With `locales`: the message in each language (canonical BCP 47 tag), with the same id,
   * and with `declarative` its declarative payload. Each subscriber gets the best match
   * for their `language` attribute, else `envelope`.
   */
  locales?: Record<string, { envelope: Envelope & { id: string }; declarative?: string }>;
}

/** How one run of `sendTo` is held back: throttled by a pacer, stopped by a signal. */
export interface SendControl {
  /** Each push waits for its slot (perSecond). */
  pacer?: Pacer | undefined;
  /** Once aborted (a cancel), no further push starts; those in flight finish. */
  signal?: AbortSignal | undefined;
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
    control?: SendControl,
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
      prepared.declarative = declarativePayload(envelope, 'declarative');
    }
    if (options.locales !== undefined) {
      prepared.locales = {};
      for (const [tag, localized] of Object.entries(localizedEnvelopes(options.locales, envelope))) {
        const variant: { envelope: Envelope & { id: string }; declarative?: string } = { envelope: localized as Envelope & { id: string } };
        if (options.declarative) variant.declarative = declarativePayload(localized, `locales.${tag}`);
        prepared.locales[tag] = variant;
      }
    }
    return prepared;
  }

  function declarativePayload(envelope: Envelope, option: string): string {
    const payload = JSON.stringify(toDeclarative(envelope, siteUrl));
    if (!fits(payload)) invalid(option, 'too large for one push, and a declarative message cannot be fetched');
    return payload;
  }

  async function sendTo(
    message: PreparedMessage,
    targets: AsyncIterator<StoredSubscription> | Iterator<StoredSubscription>,
    result: SendResult,
    onOutcome?: OutcomeHook,
    control: SendControl = {},
  ): Promise<void> {
    const { headers } = message;
    const id = message.envelope.id;
    const languages = new Set(Object.keys(message.locales ?? {}));
    // A delivery that may repeat an earlier one says so (markRetry).
    const mark = (payload: string): string => (message.retry ? markRetry(payload) : payload);

    // Too large for a push: store it once and push a pointer the worker fetches.
    const pointer = async (body: string, envelope: Envelope): Promise<Uint8Array> => {
      const key = newId();
      await store.saveMessage(key, body, message.expiresAt);
      const ref: Envelope = { v: 1, id, fetch: `${publicPath}/messages/${key}` };
      if (envelope.ts !== undefined) ref.ts = envelope.ts;
      if (envelope.ttl !== undefined) ref.ttl = envelope.ttl;
      return Buffer.from(mark(JSON.stringify(ref)));
    };
    // Per language ('' for the envelope as given): the bytes every subscriber of it without
    // a seal key gets, made once (a declarative payload, the plain envelope, or a pointer to
    // its one stored copy).
    const shared = new Map<string, Promise<Uint8Array> | Uint8Array>();
    const payloadFor = (entry: StoredSubscription): Promise<Uint8Array> | Uint8Array => {
      const language = languages.size > 0 ? (bestLanguage(entry.attributes.language, languages) ?? '') : '';
      const variant = language ? message.locales![language]! : message;
      const { envelope } = variant;
      if (!variant.declarative && entry.sealKey && message.seal) {
        const sealed = JSON.stringify({ v: 1, id, sealed: seal(envelope, entry.sealKey) });
        const payload = mark(sealed);
        return fits(payload) ? Buffer.from(payload) : pointer(sealed, envelope);
      }
      let bytes = shared.get(language);
      if (bytes === undefined) {
        if (variant.declarative) bytes = Buffer.from(mark(variant.declarative));
        else {
          const text = JSON.stringify(envelope);
          const plain = mark(text);
          bytes = fits(plain) ? Buffer.from(plain) : pointer(text, envelope);
        }
        shared.set(language, bytes);
      }
      return bytes;
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
    await runDeliveries(targets, { concurrency, policy, headers, payloadFor, done, pacer: control.pacer, signal: control.signal });
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

