import type webpush from 'web-push';
import { MAX_PUSH_BYTES, type Urgency } from '../shared/protocol.js';
import type { StoredSubscription } from './SubscriptionStore.js';
import { requireOptional } from './requireOptional.js';

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
}

/** What became of one push: sent, gone (404/410: prune it), or failed with a reason. */
export type DeliveryOutcome =
  | { outcome: 'sent'; status: number }
  | { outcome: 'gone'; status: number }
  | { outcome: 'failed'; status?: number; reason: string };

/**
 * Encrypts and POSTs one payload to one subscription. web-push builds the request
 * (aes128gcm; VAPID through the signer's cache); the platform `fetch` sends it, so connections are pooled and a local
 * `http:` push service works. 429, 5xx, network errors and timeouts are retried with
 * backoff, honouring Retry-After up to `maxRetryDelay`.
 */
export async function deliver(
  entry: StoredSubscription,
  payload: string,
  headers: PushHeaders,
  policy: DeliveryPolicy,
): Promise<DeliveryOutcome> {
  let request: webpush.RequestDetails;
  try {
    request = requireOptional<typeof webpush>('web-push', '3').generateRequestDetails(entry.subscription, payload, {
      TTL: headers.ttl,
      urgency: headers.urgency,
      contentEncoding: 'aes128gcm',
      ...(headers.topic === undefined ? {} : { topic: headers.topic }),
    });
  } catch (cause) {
    return { outcome: 'failed', reason: `request: ${(cause as Error).message}` };
  }
  let authorization: string;
  try {
    authorization = policy.authorization(request.endpoint);
  } catch (cause) {
    return { outcome: 'failed', reason: `vapid: ${(cause as Error).message}` };
  }
  if (request.body && request.body.length > MAX_PUSH_BYTES) return { outcome: 'failed', reason: 'too-large' };
  const body = request.body === null ? null : new Uint8Array(request.body);
  const requestHeaders: Record<string, string> = { Authorization: authorization };
  for (const [name, value] of Object.entries(request.headers)) {
    // fetch sets Content-Length from the body itself.
    if (name.toLowerCase() !== 'content-length') requestHeaders[name] = String(value);
  }

  for (let attempt = 0; ; attempt++) {
    let status: number | undefined;
    let reason: string;
    let retryAfter: number | undefined;
    try {
      const response = await fetch(request.endpoint, {
        method: 'POST',
        headers: requestHeaders,
        body,
        signal: AbortSignal.timeout(policy.timeout),
      });
      status = response.status;
      const text = await response.text().catch(() => '');
      if (response.ok) return { outcome: 'sent', status };
      if (status === 404 || status === 410) return { outcome: 'gone', status };
      reason = text.slice(0, 200) || response.statusText || `HTTP ${status}`;
      if (status !== 429 && status < 500) return { outcome: 'failed', status, reason };
      retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    } catch (cause) {
      const name = (cause as Error).name;
      reason = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : `network: ${(cause as Error).message}`;
    }
    if (attempt >= policy.retries) return status === undefined ? { outcome: 'failed', reason } : { outcome: 'failed', status, reason };
    await sleep(retryDelay(attempt, retryAfter, policy.maxRetryDelay));
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
