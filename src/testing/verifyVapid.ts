import { createPublicKey, verify } from 'node:crypto';
import { fromBase64Url, fromP256Key, toBase64Url } from '../shared/base64url.js';

/** The outcome of checking an `Authorization: vapid t=..., k=...` header (RFC 8292). */
export type VapidVerdict =
  | { ok: true; publicKey: string; claims: { aud: string; exp: number; sub?: string } }
  | { ok: false; reason: string };

export interface VerifyVapidOptions {
  /** Origin of the push resource (`https://push.example.net`); `aud` must equal it. */
  audience: string;
  /** ms since the epoch. @default Date.now() */
  now?: number;
}

const MAX_EXPIRY_SECONDS = 24 * 60 * 60;

/**
 * Verifies a VAPID Authorization header the way a push service must (RFC 8292 §3-4):
 * ES256 signature by `k`, `aud` equal to the endpoint's origin, `exp` in the future but
 * at most 24 h away, `sub` (when present) a mailto: or https: URI.
 */
export function verifyVapid(header: string | null | undefined, options: VerifyVapidOptions): VapidVerdict {
  if (!header) return no('missing');
  const match = /^vapid\s+(.*)$/is.exec(header.trim());
  if (!match) return no('scheme');
  const params = new Map<string, string>();
  for (const part of match[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const token = params.get('t');
  const key = params.get('k');
  if (!token || !key) return no('missing-parameter');

  const raw = fromP256Key(key);
  if (!raw) return no('bad-key');
  const parts = token.split('.');
  if (parts.length !== 3) return no('malformed-token');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const jwtHeader = decodeJson(headerPart);
  const claims = decodeJson(payloadPart);
  if (!jwtHeader || !claims) return no('malformed-token');
  if (jwtHeader.alg !== 'ES256') return no('algorithm');
  const signature = fromBase64Url(signaturePart);
  if (!signature || signature.length !== 64) return no('signature');

  let valid = false;
  try {
    const publicKey = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: toBase64Url(raw.subarray(1, 33)), y: toBase64Url(raw.subarray(33)) },
      format: 'jwk',
    });
    valid = verify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return no('bad-key');
  }
  if (!valid) return no('signature');

  const { aud, exp, sub } = claims;
  if (typeof aud !== 'string' || aud !== options.audience) return no('audience');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return no('expiry');
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (exp <= now) return no('expired');
  if (exp > now + MAX_EXPIRY_SECONDS) return no('expiry-too-far');
  if (sub !== undefined && (typeof sub !== 'string' || !/^(mailto:|https:\/\/)/.test(sub))) return no('subject');
  const out: { aud: string; exp: number; sub?: string } = { aud, exp };
  if (typeof sub === 'string') out.sub = sub;
  return { ok: true, publicKey: toBase64Url(raw), claims: out };
}

function decodeJson(part: string): Record<string, unknown> | null {
  const bytes = fromBase64Url(part);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function no(reason: string): VapidVerdict {
  return { ok: false, reason };
}
