import type { DeliveryOutcome } from '../send/deliver.js';
import { sanitizeText } from '../common/sanitizeText.js';
import { endpointHost } from './classify.js';

/** Why one push failed, as the send log groups failures. */
export interface FailureCause {
  cause: string;
  host: string;
  sample: string;
}

/**
 * The cause and host of a failed push, from the DeliveryOutcome the send reported (its
 * HTTP status, else its reason's first word): see failureCause. The host is the
 * endpoint's when a push service was (or had been) reached, '' otherwise.
 */
export function failureOf(endpoint: string, outcome: Extract<DeliveryOutcome, { outcome: 'failed' }>): FailureCause {
  const cause = failureCause(outcome);
  const reached = outcome.status !== undefined || REACHED.has(cause);
  return { cause, host: reached ? endpointHost(endpoint) : '', sample: sanitizeText(outcome.reason) };
}

/** Causes without an HTTP status that still name a push service (one was, or had been, reached). */
const REACHED = new Set(['timeout', 'circuit-open', 'network']);

/**
 * Why a push failed, in a word: `http-4xx`, `http-429`, `http-5xx`, `too-large` (a 413, or
 * a payload over the limit), `timeout`, `network` (DNS included), `circuit-open`,
 * `endpoint-refused`, `address-refused`, `vapid`, `store`, `other`. The send log and the
 * metrics both group failures by it; it reads no more than the outcome's status and the
 * first word of its reason.
 */
export function failureCause({ status, reason }: Extract<DeliveryOutcome, { outcome: 'failed' }>): string {
  if (status !== undefined) {
    if (status === 429) return 'http-429';
    if (status === 413) return 'too-large';
    if (status >= 500) return 'http-5xx';
    if (status >= 400) return 'http-4xx';
    return 'other';
  }
  const word = /^[a-z-]+/.exec(reason)?.[0] ?? '';
  switch (word) {
    case 'timeout':
    case 'circuit-open':
    case 'endpoint-refused':
    case 'address-refused':
    case 'too-large':
    case 'vapid':
      return word;
    case 'network':
    case 'dns':
      return 'network';
    default:
      // A failure of this backend around the push (the store, sealing): no push service was asked.
      return /store-failed/.test(reason) ? 'store' : 'other';
  }
}
