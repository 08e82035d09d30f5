import type { Urgency } from '../../shared/protocol.js';
import { isTidingsError } from '../../shared/TidingsError.js';
import { checkEndpoint, checkEndpointUrl, type EndpointPolicy } from '../endpoints/checkEndpoint.js';
import { markRetry } from './markRetry.js';
import { sanitizeText } from '../common/sanitizeText.js';
import type { StoredSubscription } from '../stores/SubscriptionStore.js';
import type { CircuitBreaker, RequestResult, Ticket } from './createCircuitBreaker.js';
import { preparePush, type PreparedPush } from './preparePush.js';
import type { Transport } from './transport/Transport.js';
import type { DeliveryObserver } from './DeliveryObserver.js';

/** Push-service headers of one send (RFC 8030 §5.2-5.4). */
export interface PushHeaders {
  ttl: number;
  urgency: Urgency;
  topic?: string;
}

export interface DeliveryPolicy {
  /** The VAPID Authorization header for a push-service origin (see createVapidSigner). */
  authorization(origin: string): string;
  timeout: number;
  retries: number;
  maxRetryDelay: number;
  /** Which endpoints may be sent to: checked again at send, since a store may hold rows from before. */
  endpoints: EndpointPolicy;
  transport: Transport;
  breaker: CircuitBreaker;
  /** ms a subscription may keep failing (never `gone`) before a send prunes it. */
  pruneFailingAfter: number;
  /** Told of each answer and each push's end (the metrics); absent, nothing is timed. */
  observer?: DeliveryObserver | undefined;
}

/**
 * What became of one push: sent, gone (404/410: prune it), or failed with a reason.
 * `ours` marks a failure of this backend (its VAPID keys, the payload), which says
 * nothing about the subscription.
 */
export type DeliveryOutcome =
  | { outcome: 'sent'; status: number }
  | { outcome: 'gone'; status: number }
  | { outcome: 'failed'; status?: number; reason: string; ours?: boolean };

/** One subscription's push while it is being delivered: what lasts across its attempts. */
export interface Delivery {
  entry: StoredSubscription;
  /** The checked endpoint. */
  url: URL;
  /** Its origin and push service (pushServiceGroup): what the breaker keys on. */
  origin: string;
  group: string;
  /** The plaintext, made once its host is reached (`payloadFor`). */
  payload?: Uint8Array;
  /** Encrypted once, sent as often as needed. */
  push?: PreparedPush;
  /** Attempts that failed so far, and retries of pushes the service turned away unread. */
  attempts: number;
  unread: number;
  /** Not to be tried before this time (a retry's backoff, an open circuit's end), ms. */
  notBefore: number;
  /** Set aside once already for an open circuit: a send waits for a host once. */
  waited: boolean;
  /** The last attempt's failure, reported if the push ends skipped. */
  last?: DeliveryOutcome;
  /**
   * An attempt went unanswered (a timeout, a connection lost mid-request): the push
   * service may have taken it, so the next one is marked as a possible repeat (markRetry).
   */
  mayHaveArrived?: boolean;
  /** The payload carries the retry mark already. */
  marked?: boolean;
}

/** One attempt: an outcome, or try again in `retry` ms. */
export type Attempt = { outcome: DeliveryOutcome; retry?: undefined } | { retry: number; outcome?: undefined };

/** Retries at once, counting no attempt, of pushes a push service turned away unread (GOAWAY). */
const UNREAD_RETRIES = 3;

/** The endpoint checked against the policy, or why it is refused. */
export function checkDeliveryEndpoint(entry: StoredSubscription, endpoints: EndpointPolicy): URL | DeliveryOutcome {
  try {
    return checkEndpointUrl(entry.subscription.endpoint, endpoints, 'endpoint');
  } catch (cause) {
    return { outcome: 'failed', reason: `endpoint-refused: ${String((cause as { details?: { reason?: unknown } }).details?.reason)}` };
  }
}

/** What one attempt came to, before the breaker and the retry budget have their say. */
interface Tried {
  result: RequestResult;
  outcome: DeliveryOutcome;
  /** Worth trying again: after a backoff (or Retry-After), or at once (turned away unread). */
  retry?: 'backoff' | 'unread';
  retryAfter?: number;
  /** The push service may have taken the push though it said nothing of it (a reset stream). */
  uncertain?: boolean;
}

/**
 * One attempt to deliver a push the breaker let go (`ticket`), which this ends. The host
 * is reached first (a cached lookup), then the payload made (`payloadFor`: sealing, a
 * stored pointer), encrypted and signed, then POSTed by the transport. 404/410 are gone;
 * 429, 5xx, and timeouts and network errors of a host that answered before are retried
 * with backoff that honours Retry-After up to `maxRetryDelay` (when the breaker lets the
 * host be tried again); a push the service turned away unread at once.
 */
export async function deliver(delivery: Delivery, ticket: Ticket, base: Readonly<Record<string, string>>, policy: DeliveryPolicy, payloadFor: PayloadFor): Promise<Attempt> {
  let tried: Tried;
  try {
    tried = await attempt(delivery, base, policy, payloadFor);
  } catch (cause) {
    tried = { result: 'neutral', outcome: { outcome: 'failed', reason: sanitizeText(String(cause)), ours: true } };
  }
  const { result, outcome, retryAfter } = tried;
  if (result === 'no-answer' || tried.uncertain) delivery.mayHaveArrived = true;
  let retry = tried.retry;
  // Silence from a host that has never answered is not worth another timeout (junk names, tar pits).
  if (!policy.breaker.end(ticket, result, retryAfter) && (result === 'no-answer' || result === 'unresolved')) retry = undefined;
  if (outcome.outcome !== 'failed') return { outcome };
  delivery.last = outcome;
  if (retry === 'unread') {
    if (delivery.unread++ < UNREAD_RETRIES) return { retry: 0 };
    // Turned away again and again: from now on it spends the retry budget like any failure.
    retry = 'backoff';
  }
  if (retry !== 'backoff' || delivery.attempts >= policy.retries) return { outcome };
  return { retry: retryDelay(delivery.attempts++, retryAfter, policy.maxRetryDelay) };
}

/** The plaintext of a subscription's push: sealed to it, shared by all, or a stored pointer (a promise then). */
export type PayloadFor = (entry: StoredSubscription) => Promise<Uint8Array> | Uint8Array;

async function attempt(delivery: Delivery, base: Readonly<Record<string, string>>, policy: DeliveryPolicy, payloadFor: PayloadFor): Promise<Tried> {
  const { transport } = policy;
  try {
    const reached = transport.reach?.(delivery.url, policy.timeout);
    if (reached) await reached;
    if (delivery.mayHaveArrived && delivery.payload !== undefined && !delivery.marked) {
      // Sent again after an attempt that may have arrived: the worker must check its seen
      // ids before showing it (markRetry), so encrypt the marked payload afresh.
      delivery.marked = true;
      delivery.payload = Buffer.from(markRetry(Buffer.from(delivery.payload).toString('utf8')));
      delivery.push = undefined;
    }
    if (!delivery.push) {
      if (delivery.payload === undefined) {
        try {
          const made = payloadFor(delivery.entry);
          delivery.payload = made instanceof Promise ? await made : made;
        } catch (cause) {
          // A store or sealing error fails this subscription, not the whole send.
          return { result: 'neutral', outcome: { outcome: 'failed', reason: String(cause), ours: true } };
        }
      }
      const prepared = preparePush(delivery, base, delivery.payload, policy);
      if ('outcome' in prepared) return { result: 'neutral', outcome: prepared };
      delivery.push = prepared;
    }
    return await post(delivery.url, delivery.push, policy, delivery.group);
  } catch (cause) {
    return failed(cause);
  }
}

/**
 * POSTs a prepared push and reads what the push service said. No redirect is followed
 * but a 307/308 to the same push-service origin, once (the method and body stay, RFC
 * 9110 15.4.8, so it is the same push); 301/302/303 would turn the POST into a GET.
 */
async function post(first: URL, push: PreparedPush, policy: DeliveryPolicy, group: string): Promise<Tried> {
  const { observer } = policy;
  let url = first;
  for (let redirected = false; ; ) {
    const started = observer ? performance.now() : 0;
    const answer = await policy.transport.post({ url, headers: push.headers, body: push.body, timeout: policy.timeout });
    observer?.answered(group, answer.protocol, (performance.now() - started) / 1000);
    const { status } = answer;
    if (status >= 200 && status < 300) return { result: 'answered', outcome: { outcome: 'sent', status } };
    if (status === 404 || status === 410) return { result: 'answered', outcome: { outcome: 'gone', status } };
    const text = sanitizeText(answer.text);
    if (status >= 300 && status < 400) {
      const next = redirected ? undefined : sameServiceRedirect(status, answer.location, url, policy.endpoints);
      if (next) {
        redirected = true;
        url = next;
        continue;
      }
      return { result: 'answered', outcome: { outcome: 'failed', status, reason: text ? `redirect: ${text}` : 'redirect' } };
    }
    const outcome: DeliveryOutcome = { outcome: 'failed', status, reason: text || `HTTP ${status}` };
    if (status !== 429 && status < 500) return { result: 'answered', outcome };
    const tried: Tried = { result: status === 429 ? 'throttled' : 'server-error', outcome, retry: 'backoff' };
    const retryAfter = parseRetryAfter(answer.retryAfter ?? null);
    if (retryAfter !== undefined) tried.retryAfter = Math.min(retryAfter, policy.maxRetryDelay);
    return tried;
  }
}

/** A transport failure as the breaker and the send report it. */
function failed(cause: unknown): Tried {
  const details = isTidingsError(cause, 'send-failed') ? cause.details : { reason: 'network', message: String(cause) };
  switch (details.reason) {
    case 'address':
      // The name resolved to this backend's own network: never retried, and no fault of the host's.
      return { result: 'neutral', outcome: { outcome: 'failed', reason: `address-refused: ${String(details.kind)}` } };
    case 'unprocessed':
      return { result: 'neutral', outcome: { outcome: 'failed', reason: `network: ${String(details.code)}` }, retry: 'unread' };
    case 'dns': {
      const tried: Tried = { result: 'unresolved', outcome: { outcome: 'failed', reason: `dns: ${String(details.code)}` } };
      // A name that does not exist will not exist a moment later; a resolver that failed may answer.
      if (details.code !== 'ENOTFOUND' && details.code !== 'ENODATA') tried.retry = 'backoff';
      return tried;
    }
    case 'reset':
      // The server is alive and turned this one stream down: a failure of the host like a
      // 5xx (it counts, and is retried even from a host that never answered), but the push
      // may have been taken before the reset.
      return { result: 'server-error', outcome: { outcome: 'failed', reason: sanitizeText(`network: ${String(details.message)}`) }, retry: 'backoff', uncertain: true };
    case 'timeout':
      return { result: 'no-answer', outcome: { outcome: 'failed', reason: 'timeout' }, retry: 'backoff' };
    default:
      return { result: 'no-answer', outcome: { outcome: 'failed', reason: sanitizeText(`network: ${String(details.message)}`) }, retry: 'backoff' };
  }
}

/**
 * Where a 307/308 may be followed: the Location, resolved against the request's URL,
 * passes the same endpoint policy and is on the same origin, so the push service is
 * the one the browser subscribed with and the VAPID token (its audience is the origin)
 * stays valid. Anything else: undefined.
 */
function sameServiceRedirect(status: number, location: string | undefined, from: URL, endpoints: EndpointPolicy): URL | undefined {
  if ((status !== 307 && status !== 308) || location === undefined) return undefined;
  try {
    const next = new URL(checkEndpoint(new URL(location, from).href, endpoints, 'location'));
    return next.origin === from.origin ? next : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3); returns ms, or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The push service's Retry-After when it gave one, else exponential backoff with jitter; both capped. */
export function retryDelay(attempt: number, retryAfter: number | undefined, max: number): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, max);
  const base = 500 * 2 ** attempt;
  return Math.min(max, base / 2 + Math.random() * (base / 2));
}
