import { TidingsError } from './TidingsError.js';

/** The receiving side of an RFC 8291 message: the key pair the sender sealed to. */
export interface UnsealKey {
  /** ECDH P-256 private key with the `deriveBits` usage (it may be non-extractable). */
  privateKey: CryptoKey;
  /** The matching raw public key, 65 bytes (`p256dh`). */
  publicKey: Uint8Array<ArrayBuffer>;
  /** The 16-byte auth secret (`auth`). */
  auth: Uint8Array<ArrayBuffer>;
}

/** RFC 8188 header for Web Push: salt (16), rs (4), idlen (1) = 65, keyid = sender key (65). */
const HEADER = 86;
const TAG = 16;

/**
 * Opens one RFC 8291 `aes128gcm` record (the Web Push scheme, so `web-push`'s `encrypt()`
 * can make it) with WebCrypto: ECDH, HKDF-SHA-256, AES-128-GCM, then the padding
 * delimiter check. Throws only TidingsError `unseal-failed`, whose `details.field` says
 * which check refused it.
 */
export async function decrypt(body: Uint8Array<ArrayBuffer>, key: UnsealKey): Promise<Uint8Array<ArrayBuffer>> {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  // Web Push allows exactly one record, and its header names the sender key (RFC 8291 §4).
  if (body.length < HEADER + TAG + 1) fail('length');
  if (body[20] !== 65) fail('idlen');
  const rs = view.getUint32(16);
  if (rs < 18 || body.length - HEADER > rs) fail('rs');
  const salt = body.subarray(0, 16);
  const senderKey = body.subarray(21, HEADER);
  let plain: Uint8Array<ArrayBuffer>;
  try {
    const subtle = crypto.subtle;
    const sender = await subtle.importKey('raw', senderKey, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    const secret = await subtle.deriveBits({ name: 'ECDH', public: sender }, key.privateKey, 256);
    // The two HKDF steps of RFC 8291 §3.3-3.4; the key info names the receiver key first.
    const ikm = await hkdf(key.auth, secret, new Uint8Array([...utf8('WebPush: info\0'), ...key.publicKey, ...senderKey]), 32);
    const cek = await hkdf(salt, ikm, utf8('Content-Encoding: aes128gcm\0'), 16);
    const nonce = await hkdf(salt, ikm, utf8('Content-Encoding: nonce\0'), 12);
    const aes = await subtle.importKey('raw', cek, 'AES-GCM', false, ['decrypt']);
    plain = new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: nonce }, aes, body.subarray(HEADER)));
  } catch (cause) {
    fail('key', cause);
  }
  // Padding is zeros after the delimiter; the last (only) record's delimiter is 2.
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  if (plain[end - 1] !== 2) fail('delimiter');
  return plain.subarray(0, end - 1);
}

/** HKDF-SHA-256 (RFC 5869) with WebCrypto: `length` bytes. */
export async function hkdf(salt: BufferSource, ikm: BufferSource, info: BufferSource, length: number): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, length * 8));
}

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
}

function fail(field: string, cause?: unknown): never {
  throw new TidingsError('unseal-failed', { reason: 'unseal', field, cause });
}
