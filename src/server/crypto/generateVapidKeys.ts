import { createECDH, generateKeyPairSync } from 'node:crypto';
import { fromBase64Url, fromP256Key, toBase64Url } from '../../shared/base64url.js';
import { TidingsError } from '../../shared/TidingsError.js';

/** A VAPID (RFC 8292) key pair: the raw P-256 public key (65 bytes) and private scalar (32 bytes), base64url. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** VAPID keys plus the contact the push services may write to. */
export interface VapidDetails extends VapidKeys {
  /** `mailto:` or `https:` URI. */
  subject: string;
}

/** Makes a fresh VAPID key pair. The public key goes to browsers; the private key stays on the server. */
export function generateVapidKeys(): VapidKeys {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const x = fromBase64Url(jwk.x ?? '');
  const y = fromBase64Url(jwk.y ?? '');
  if (!x || !y || !jwk.d) throw new TidingsError('invalid-option', { option: 'vapid', reason: 'key generation failed' });
  const raw = new Uint8Array(65);
  raw[0] = 4;
  raw.set(x, 1);
  raw.set(y, 33);
  return { publicKey: toBase64Url(raw), privateKey: jwk.d };
}

/**
 * Checks VAPID details once, at creation: key lengths, that the public key belongs to
 * the private key (a mismatched pair makes every push service answer 401/403), and the
 * subject's scheme. Throws TidingsError `invalid-option` naming the field.
 */
export function checkVapidDetails(vapid: unknown): VapidDetails {
  const fail = (option: string, reason: string): never => {
    throw new TidingsError('invalid-option', { option, reason });
  };
  if (typeof vapid !== 'object' || vapid === null) return fail('vapid', 'missing');
  const { publicKey, privateKey, subject } = vapid as Record<string, unknown>;
  if (typeof publicKey !== 'string') return fail('vapid.publicKey', 'not a string');
  if (typeof privateKey !== 'string') return fail('vapid.privateKey', 'not a string');
  if (typeof subject !== 'string') return fail('vapid.subject', 'not a string');
  const pub = fromP256Key(publicKey);
  if (!pub) fail('vapid.publicKey', 'must be a 65-byte uncompressed P-256 key');
  const priv = fromBase64Url(privateKey);
  if (!priv || priv.length !== 32) fail('vapid.privateKey', 'must be 32 bytes');
  if (!/^(mailto:.+|https:\/\/.+)/.test(subject)) fail('vapid.subject', 'must be a mailto: or https: URI');
  let derived: string;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(priv as Uint8Array);
    derived = toBase64Url(ecdh.getPublicKey());
  } catch {
    return fail('vapid.privateKey', 'not a valid P-256 private key');
  }
  if (derived !== toBase64Url(pub as Uint8Array)) fail('vapid.publicKey', 'does not match the private key');
  // web-push wants unpadded base64url; normalise in case the keys came padded or in base64.
  return { publicKey: derived, privateKey: toBase64Url(priv as Uint8Array), subject };
}
