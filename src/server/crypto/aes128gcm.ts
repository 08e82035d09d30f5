import { createCipheriv, createECDH, createHmac, randomBytes } from 'node:crypto';

/**
 * RFC 8291 (Web Push message encryption) over RFC 8188 (aes128gcm), with node:crypto:
 * the sending side. Always one record, as RFC 8291 §4 requires; sync, so `seal()` can be
 * sync too. The receiving side is `src/shared/aes128gcm.ts` (WebCrypto), which the
 * worker and the local push service's headless subscribers share.
 */

const HEADER_BYTES = 86;
const TAG_BYTES = 16;
const DEFAULT_RECORD_SIZE = 4096;

/** Fixed inputs for golden tests (RFC 8291 Appendix A); normal callers leave them out. */
export interface EncryptOptions {
  /** The sender's ephemeral private key, 32 bytes. Default: a fresh key per message. */
  senderPrivateKey?: Uint8Array;
  /** 16 bytes. Default: random. */
  salt?: Uint8Array;
}

/** Encrypts `plaintext` to a receiver's P-256 public key (65 bytes) and 16-byte auth secret. */
export function encryptAes128gcm(
  plaintext: Uint8Array,
  receiverPublicKey: Uint8Array,
  authSecret: Uint8Array,
  options: EncryptOptions = {},
): Buffer {
  const sender = createECDH('prime256v1');
  if (options.senderPrivateKey) sender.setPrivateKey(options.senderPrivateKey);
  else sender.generateKeys();
  const senderPublicKey = sender.getPublicKey();
  const salt = options.salt ?? randomBytes(16);
  const secret = sender.computeSecret(receiverPublicKey);
  const { key, nonce } = deriveKeys(secret, authSecret, receiverPublicKey, senderPublicKey, salt);

  // A sealed envelope fetched from the backend may pass 4 KB: grow the record size
  // instead of writing a second record, so a one-record decoder opens every message.
  const recordSize = Math.max(DEFAULT_RECORD_SIZE, plaintext.length + 1 + TAG_BYTES);
  const header = Buffer.alloc(HEADER_BYTES);
  header.set(salt, 0);
  header.writeUInt32BE(recordSize, 16);
  header[20] = 65;
  header.set(senderPublicKey, 21);

  const cipher = createCipheriv('aes-128-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext), cipher.update(Buffer.of(2)), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/** The key schedule of RFC 8291 §3.3-3.4 and RFC 8188 §2.2 (PUSH-FACTS.md §2.2). */
export function deriveKeys(
  ecdhSecret: Uint8Array,
  authSecret: Uint8Array,
  receiverPublicKey: Uint8Array,
  senderPublicKey: Uint8Array,
  salt: Uint8Array,
): { ikm: Buffer; key: Buffer; nonce: Buffer } {
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiverPublicKey, senderPublicKey]);
  const ikm = hkdfStep(hmac(authSecret, ecdhSecret), keyInfo);
  const prk = hmac(salt, ikm);
  const key = hkdfStep(prk, Buffer.from('Content-Encoding: aes128gcm\0')).subarray(0, 16);
  const nonce = hkdfStep(prk, Buffer.from('Content-Encoding: nonce\0')).subarray(0, 12);
  return { ikm, key, nonce };
}

// HKDF-Expand for one block (L <= 32): T(1) = HMAC(PRK, info || 0x01).
function hkdfStep(prk: Uint8Array, info: Uint8Array): Buffer {
  return createHmac('sha256', prk).update(info).update(Buffer.of(1)).digest();
}

function hmac(key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
