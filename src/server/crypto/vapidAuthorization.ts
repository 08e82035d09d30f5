import { sign } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../../shared/base64url.js';
import type { VapidDetails } from './generateVapidKeys.js';

/** `{"typ":"JWT","alg":"ES256"}` in base64url, as RFC 8292's example token starts. */
const HEADER = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9';

/**
 * The VAPID `Authorization` header (RFC 8292 §2-3: an ES256 JWT for `audience`, the push
 * service's origin, and the public key) signed with node:crypto, as web-push's
 * getVapidHeaders makes it. For runtimes that cannot load web-push at run time (workerd
 * has no `require`); their node:crypto signs ES256 from a JWK (checked in Node, Bun,
 * Deno and workerd). `expiration` is in seconds since the epoch. (DESIGN.md has web-push
 * sign, and Web Crypto stand in for node:crypto in workerd: its node:crypto has all this
 * needs, ECDH and AES-GCM too, so only the signer differs there, and it stays synchronous.)
 */
export function vapidAuthorization(audience: string, vapid: VapidDetails, expiration: number): string {
  const claims = toBase64Url(new TextEncoder().encode(JSON.stringify({ aud: audience, exp: expiration, sub: vapid.subject })));
  const raw = fromBase64Url(vapid.publicKey) ?? new Uint8Array();
  const key = { kty: 'EC', crv: 'P-256', d: vapid.privateKey, x: toBase64Url(raw.subarray(1, 33)), y: toBase64Url(raw.subarray(33, 65)) };
  // JWS wants r || s (ieee-p1363), not node:crypto's default DER.
  const signature = sign('sha256', new TextEncoder().encode(`${HEADER}.${claims}`), { key, format: 'jwk', dsaEncoding: 'ieee-p1363' });
  return `vapid t=${HEADER}.${claims}.${toBase64Url(signature)}, k=${vapid.publicKey}`;
}
