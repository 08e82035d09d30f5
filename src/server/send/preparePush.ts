import type webpush from 'web-push';
import { MAX_PUSH_BYTES } from '../../shared/protocol.js';
import { requireOptional } from '../common/requireOptional.js';
import { sanitizeText } from '../common/sanitizeText.js';
import type { Delivery, DeliveryOutcome, DeliveryPolicy, PushHeaders } from './deliver.js';

/** The headers and encrypted body of one push, ready for any number of attempts. */
export interface PreparedPush {
  headers: Record<string, string>;
  body: Uint8Array | null;
}

/**
 * Encrypts a delivery's payload to its subscription (aes128gcm, RFC 8291) and adds the
 * VAPID Authorization of its push-service origin, or says why it cannot be sent.
 */
export function preparePush(delivery: Delivery, headers: PushHeaders, policy: DeliveryPolicy): PreparedPush | DeliveryOutcome {
  const { entry, url, payload = '' } = delivery;
  let request: webpush.RequestDetails;
  try {
    request = requireOptional<typeof webpush>('web-push', '3').generateRequestDetails({ ...entry.subscription, endpoint: url.href }, payload, {
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
    authorization = policy.authorization(url.origin);
  } catch (cause) {
    return { outcome: 'failed', reason: sanitizeText(`vapid: ${(cause as Error).message}`), ours: true };
  }
  if (request.body && request.body.length > MAX_PUSH_BYTES) return { outcome: 'failed', reason: 'too-large', ours: true };
  const body = request.body === null ? null : new Uint8Array(request.body);
  const pushHeaders: Record<string, string> = { authorization };
  for (const [name, value] of Object.entries(request.headers)) pushHeaders[name.toLowerCase()] = String(value);
  if (body === null) pushHeaders['content-length'] = '0';
  return { headers: pushHeaders, body };
}
