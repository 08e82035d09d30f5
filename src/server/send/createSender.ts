import { MAX_PLAINTEXT_BYTES, URGENCIES, type Envelope } from '../../shared/protocol.js';
import { invalidOption as invalid } from '../common/checkOptions.js';
import { validateEnvelope } from '../../shared/validateEnvelope.js';
import { deliver, type DeliveryOutcome, type DeliveryPolicy, type PushHeaders } from './deliver.js';
import { newId, newMessageId } from '../crypto/newId.js';
import { seal } from '../crypto/seal.js';
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
    envelope.id ??= newMessageId();
    const headers = pushHeaders(options);
    const prepared: PreparedMessage = {
      envelope: envelope as Envelope & { id: string },
      headers,
      seal: options.seal !== false,
      expiresAt: Date.now() + Math.max(headers.ttl, 86_400) * 1000,
    };
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

    // Too large for a push: store it once and push a pointer the worker fetches.
    const pointer = async (body: string, envelope: Envelope): Promise<string> => {
      const key = newId();
      await store.saveMessage(key, body, message.expiresAt);
      const ref: Envelope = { v: 1, id, fetch: `${publicPath}/messages/${key}` };
      if (envelope.ts !== undefined) ref.ts = envelope.ts;
      if (envelope.ttl !== undefined) ref.ttl = envelope.ttl;
      return JSON.stringify(ref);
    };
    // Per language ('' for the envelope as given): its plain text, and the one stored copy
    // its too-large plain pushes share.
    const plain = new Map<string, { text: string; shared?: Promise<string> }>();
    const payloadFor = (entry: StoredSubscription): Promise<string> | string => {
      const language = languages.size > 0 ? (bestLanguage(entry.attributes.language, languages) ?? '') : '';
      const variant = language ? message.locales![language]! : message;
      const envelope = variant.envelope;
      if (variant.declarative) return variant.declarative;
      if (entry.sealKey && message.seal) {
        const sealed = JSON.stringify({ v: 1, id, sealed: seal(envelope, entry.sealKey) });
        return fits(sealed) ? sealed : pointer(sealed, envelope);
      }
      let text = plain.get(language);
      if (!text) plain.set(language, (text = { text: JSON.stringify(envelope) }));
      if (fits(text.text)) return text.text;
      return (text.shared ??= pointer(text.text, envelope));
    };

    // The workers share one reader of the targets; an async generator answers their
    // next() calls one after another, so each subscription goes to exactly one worker.
    const { pacer, signal } = control;
    const worker = async (): Promise<void> => {
      for (let next = await targets.next(); !next.done && !signal?.aborted; next = await targets.next()) {
        const entry = next.value;
        if (pacer) await pacer.take();
        // A cancel heard while this push waited for its slot: it does not start.
        if (signal?.aborted) return;
        // A store or sealing error fails this subscription, not the whole send.
        const outcome: DeliveryOutcome = await Promise.resolve()
          .then(() => payloadFor(entry))
          .then((payload) => deliver(entry, payload, headers, policy))
          .catch((cause: unknown) => ({ outcome: 'failed', reason: String(cause), ours: true }));
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
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
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

