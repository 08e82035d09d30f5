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
 * HTTP status, else its reason's first word): `http-4xx`, `http-429`, `http-5xx`,
 * `too-large` (a 413, or a payload over the limit), `timeout`, `network` (DNS included),
 * `circuit-open`, `endpoint-refused`, `address-refused`, `vapid`, `store`, `other`. The
 * host is the endpoint's when a push service was (or had been) reached, '' otherwise.
 */
export function failureOf(endpoint: string, outcome: Extract<DeliveryOutcome, { outcome: 'failed' }>): FailureCause {
  const { status, reason } = outcome;
  const sample = sanitizeText(reason);
  const host = endpointHost(endpoint);
  if (status !== undefined) {
    if (status === 429) return { cause: 'http-429', host, sample };
    if (status === 413) return { cause: 'too-large', host, sample };
    if (status >= 500) return { cause: 'http-5xx', host, sample };
    if (status >= 400) return { cause: 'http-4xx', host, sample };
    return { cause: 'other', host, sample };
  }
  const word = /^[a-z-]+/.exec(reason)?.[0] ?? '';
  switch (word) {
    case 'timeout':
    case 'circuit-open':
      return { cause: word, host, sample };
    case 'network':
    case 'dns':
      return { cause: 'network', host, sample };
    case 'endpoint-refused':
    case 'address-refused':
    case 'too-large':
    case 'vapid':
      return { cause: word, host: '', sample };
    default:
      // A failure of this backend around the push (the store, sealing): no push service was asked.
      return { cause: /store-failed/.test(reason) ? 'store' : 'other', host: '', sample };
  }
}
