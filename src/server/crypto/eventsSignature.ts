import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { fromBase64Url } from '../../shared/base64url.js';

/** HKDF's `info` for the events key: our own label, so the key serves nothing else. */
export const EVENTS_KEY_INFO = 'tidings events v1';

/** The request header that carries the signature: `v1=<base64url HMAC-SHA256 of the body>`. */
export const SIGNATURE_HEADER = 'tidings-signature';

/**
 * The key a worker signs its events requests with, from its subscription's `auth` secret
 * (base64url, as registered): HKDF-SHA256 with an empty salt, EVENTS_KEY_INFO, 32 bytes.
 * Only that browser and this backend know the secret. Undefined for a secret that is not
 * base64url.
 */
export function eventsKey(auth: string): Buffer | undefined {
  const secret = fromBase64Url(auth);
  if (!secret || secret.length === 0) return undefined;
  return Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), EVENTS_KEY_INFO, 32));
}

/** The header value for `body` signed with `key` (what the worker sends). */
export function signEvents(key: Uint8Array, body: Uint8Array | string): string {
  return `v1=${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/**
 * True when `header` is the signature of exactly these body bytes under the key of
 * `auth`. Compared in constant time; a header of any other form is false.
 */
export function verifyEvents(auth: string, body: Uint8Array, header: string): boolean {
  const match = /^v1=([A-Za-z0-9_-]{43})$/.exec(header.trim());
  const key = eventsKey(auth);
  if (!match || !key) return false;
  const given = Buffer.from(match[1]!, 'base64url');
  const expected = createHmac('sha256', key).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}
