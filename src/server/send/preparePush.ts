import { MAX_PUSH_BYTES } from '../../shared/protocol.js';
import { sanitizeText } from '../common/sanitizeText.js';
import { encryptAes128gcm } from '../crypto/aes128gcm.js';
import type { Delivery, DeliveryOutcome, DeliveryPolicy, PushHeaders } from './deliver.js';

/** The headers and encrypted body of one push, ready for any number of attempts. */
export interface PreparedPush {
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The headers every push of a send carries (RFC 8030 §5.2-5.4, RFC 8188), made once per send. */
export function sendHeaders({ ttl, urgency, topic }: PushHeaders): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {
    ttl: String(ttl),
    urgency,
    'content-encoding': 'aes128gcm',
    'content-type': 'application/octet-stream',
  };
  if (topic !== undefined) headers.topic = topic;
  return headers;
}

/**
 * Encrypts a delivery's payload to its subscription (aes128gcm, RFC 8291, node:crypto: a
 * fresh key pair and salt per push; the RFC's test vector is pinned in
 * test/interop/rfc8291.test.ts) and adds the VAPID Authorization of its push-service
 * origin, or says why it cannot be sent. Everything a send's pushes share (the headers,
 * the payload's bytes) is made once by the caller.
 */
export function preparePush(delivery: Delivery, base: Readonly<Record<string, string>>, payload: Uint8Array, policy: DeliveryPolicy): PreparedPush | DeliveryOutcome {
  const { keys } = delivery.entry.subscription;
  const publicKey = Buffer.from(keys?.p256dh ?? '', 'base64url');
  const auth = Buffer.from(keys?.auth ?? '', 'base64url');
  // A store may hold rows from before any check, or from another writer.
  if (publicKey.length !== 65 || publicKey[0] !== 4) return { outcome: 'failed', reason: 'keys: p256dh is not a 65-byte P-256 key' };
  if (auth.length < 16) return { outcome: 'failed', reason: 'keys: auth is shorter than 16 bytes' };
  let body: Buffer;
  try {
    body = encryptAes128gcm(payload, publicKey, auth);
  } catch (cause) {
    // OpenSSL refuses a point that is not on the curve.
    return { outcome: 'failed', reason: sanitizeText(`keys: ${(cause as Error).message}`) };
  }
  if (body.length > MAX_PUSH_BYTES) return { outcome: 'failed', reason: 'too-large', ours: true };
  let authorization: string;
  try {
    authorization = policy.authorization(delivery.url.origin);
  } catch (cause) {
    return { outcome: 'failed', reason: sanitizeText(`vapid: ${(cause as Error).message}`), ours: true };
  }
  return { headers: { ...base, authorization, 'content-length': String(body.length) }, body };
}
