import type webpush from 'web-push';
import { MAX_PUSH_BYTES, type Urgency } from '../../shared/protocol.js';
import { isTidingsError, type TidingsError } from '../../shared/TidingsError.js';
import { checkEndpoint, type EndpointPolicy } from '../endpoints/checkEndpoint.js';
import type { CircuitBreaker } from './createCircuitBreaker.js';
import type { Transport } from './createTransport.js';
import { sanitizeText } from '../common/sanitizeText.js';
import type { StoredSubscription } from '../stores/SubscriptionStore.js';
import { requireOptional } from '../common/requireOptional.js';

/** Push-service headers of one send (RFC 8030 §5.2-5.4). */
export interface PushHeaders {
  ttl: number;
  urgency: Urgency;
  topic?: string;
}

export interface DeliveryPolicy {
  /** The VAPID Authorization header for an endpoint (see createVapidSigner). */
  authorization(endpoint: string): string;
  timeout: number;
  retries: number;
  maxRetryDelay: number;
  /** Which endpoints may be sent to: checked again at send, since a store may hold rows from before. */
  endpoints: EndpointPolicy;
  transport: Transport;
  breaker: CircuitBreaker;
  /** ms a subscription may keep failing (never `gone`) before a send prunes it. */
  pruneFailingAfter: number;
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

/**
 * Encrypts and POSTs one payload to one subscription. web-push builds the request
 * (aes128gcm; VAPID through the signer's cache); the policy's transport sends it,
 * checking the address it connects to and reading little of any answer. 429, 5xx,
 * network errors and timeouts are retried with backoff, honouring Retry-After up to
 * `maxRetryDelay`, unless the host's circuit opens. No redirect is followed but a
 * 307/308 to the same push-service origin, once (the method and body stay, RFC 9110
 * 15.4.8, so it is the same push); 301/302/303 would turn the POST into a GET.
 */
export async function deliver(
  entry: StoredSubscription,
  payload: string,
  headers: PushHeaders,
  policy: DeliveryPolicy,
): Promise<DeliveryOutcome> {
  const prepared = prepareRequest(entry, payload, headers, policy);
  if ('outcome' in prepared) return prepared;
  const { endpoint, requestHeaders, body } = prepared;
  const host = new URL(endpoint).host;
  // On a failing host, the requests in flight are heard first: when it is dead they open
  // the circuit, and this one costs nothing. Each has its own timeout, so the wait is bounded.
  await policy.breaker.settled(host);
  if (!policy.breaker.allows(host)) return { outcome: 'failed', reason: 'circuit-open' };

  let url = new URL(endpoint);
  let redirected = false;
  for (let attempt = 0; ; attempt++) {
    let status: number | undefined;
    let reason: string;
    let retryAfter: number | undefined;
    const ticket = policy.breaker.start(host);
    try {
      const answer = await policy.transport.post(url, requestHeaders, body, policy.timeout);
      status = answer.status;
      policy.breaker.end(host, ticket, status >= 500 ? 'failed' : 'ok');
      if (status >= 200 && status < 300) return { outcome: 'sent', status };
      if (status === 404 || status === 410) return { outcome: 'gone', status };
      const text = sanitizeText(answer.text);
      if (status >= 300 && status < 400) {
        const next = redirected ? undefined : sameServiceRedirect(status, answer.location, url, policy.endpoints);
        if (next) {
          redirected = true;
          url = next;
          attempt--;
          continue;
        }
        return { outcome: 'failed', status, reason: text ? `redirect: ${text}` : 'redirect' };
      }
      reason = text || `HTTP ${status}`;
      if (status !== 429 && status < 500) return { outcome: 'failed', status, reason };
      retryAfter = parseRetryAfter(answer.retryAfter ?? null);
    } catch (cause) {
      if (isTidingsError(cause, 'send-failed') && cause.details.reason === 'address') {
        // The name resolved to this backend's own network: never retried, and no fault of the host's.
        policy.breaker.end(host, ticket, 'neutral');
        return { outcome: 'failed', reason: `address-refused: ${String(cause.details.kind)}` };
      }
      policy.breaker.end(host, ticket, 'failed');
      const timedOut = isTidingsError(cause, 'send-failed') && cause.details.reason === 'timeout';
      reason = timedOut ? 'timeout' : sanitizeText(`network: ${(cause as Error).message}`);
    }
    const failed: DeliveryOutcome = status === undefined ? { outcome: 'failed', reason } : { outcome: 'failed', status, reason };
    // An open circuit ends the retries too: the host has had its chance.
    if (attempt >= policy.retries || !policy.breaker.allows(host)) return failed;
    await Promise.all([sleep(retryDelay(attempt, retryAfter, policy.maxRetryDelay)), policy.breaker.settled(host)]);
    if (!policy.breaker.allows(host)) return failed;
  }
}

/** The checked endpoint, headers and encrypted body of one push, or why there is none. */
function prepareRequest(
  entry: StoredSubscription,
  payload: string,
  headers: PushHeaders,
  policy: DeliveryPolicy,
): { endpoint: string; requestHeaders: Record<string, string>; body: Uint8Array | null } | DeliveryOutcome {
  let endpoint: string;
  try {
    endpoint = checkEndpoint(entry.subscription.endpoint, policy.endpoints, 'endpoint');
  } catch (cause) {
    return { outcome: 'failed', reason: `endpoint-refused: ${String((cause as TidingsError).details?.reason)}` };
  }
  let request: webpush.RequestDetails;
  try {
    request = requireOptional<typeof webpush>('web-push', '3').generateRequestDetails({ ...entry.subscription, endpoint }, payload, {
      TTL: headers.ttl,
      urgency: headers.urgency,
      contentEncoding: 'aes128gcm',
      ...(headers.topic === undefined ? {} : { topic: headers.topic }),
    });
  } catch (cause) {
    return { outcome: 'failed', reason: sanitizeText(`request: ${(cause as Error).message}`) };
  }
  let authorization: string;
  try {
    authorization = policy.authorization(endpoint);
  } catch (cause) {
    return { outcome: 'failed', reason: sanitizeText(`vapid: ${(cause as Error).message}`), ours: true };
  }
  if (request.body && request.body.length > MAX_PUSH_BYTES) return { outcome: 'failed', reason: 'too-large', ours: true };
  const body = request.body === null ? null : new Uint8Array(request.body);
  const requestHeaders: Record<string, string> = { Authorization: authorization };
  for (const [name, value] of Object.entries(request.headers)) requestHeaders[name] = String(value);
  if (body === null) requestHeaders['Content-Length'] = '0';
  return { endpoint, requestHeaders, body };
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
