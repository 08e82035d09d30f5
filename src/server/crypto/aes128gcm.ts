import { createCipheriv, createECDH, createHmac, randomFillSync, type ECDH } from 'node:crypto';

/**
 * RFC 8291 (Web Push message encryption) over RFC 8188 (aes128gcm), with node:crypto:
 * the sending side. Always one record, as RFC 8291 §4 requires; sync, so `seal()` can be
 * sync too. The receiving side is `src/shared/aes128gcm.ts` (WebCrypto), which the
 * worker and the local push service's headless subscribers share.
 */

const HEADER_BYTES = 86;
const TAG_BYTES = 16;
const DEFAULT_RECORD_SIZE = 4096;
/** The padding delimiter of the one (last) record, RFC 8188 §2. */
const LAST_RECORD = 2;

/** Fixed inputs for golden tests (RFC 8291 Appendix A); normal callers leave them out. */
export interface EncryptOptions {
  /** The sender's ephemeral private key, 32 bytes. Default: a fresh key per message. */
  senderPrivateKey?: Uint8Array;
  /** 16 bytes. Default: random. */
  salt?: Uint8Array;
}

// One ECDH object for every message, given a fresh key pair each time (generateKeys()
// replaces its key: RFC 8291 §3.1's new key pair per message). Making an ECDH object per
// message cost a send 5% of its CPU (the object, its OpenSSL key and group, and the GC of
// their handles); this is safe because encryptAes128gcm is synchronous.
let ephemeral: ECDH | undefined;

/** Encrypts `plaintext` to a receiver's P-256 public key (65 bytes) and 16-byte auth secret. */
export function encryptAes128gcm(
  plaintext: Uint8Array,
  receiverPublicKey: Uint8Array,
  authSecret: Uint8Array,
  options: EncryptOptions = {},
): Buffer {
  let sender: ECDH;
  let senderPublicKey: Buffer;
  if (options.senderPrivateKey) {
    sender = createECDH('prime256v1');
    sender.setPrivateKey(options.senderPrivateKey);
    senderPublicKey = sender.getPublicKey();
  } else {
    sender = ephemeral ??= createECDH('prime256v1');
    senderPublicKey = sender.generateKeys();
  }
  const salt = options.salt ?? freshSalt();
  const secret = sender.computeSecret(receiverPublicKey);
  const { key, nonce } = deriveKeys(secret, authSecret, receiverPublicKey, senderPublicKey, salt);

  // A sealed envelope fetched from the backend may pass 4 KB: grow the record size
  // instead of writing a second record, so a one-record decoder opens every message.
  const recordSize = Math.max(DEFAULT_RECORD_SIZE, plaintext.length + 1 + TAG_BYTES);
  // The header, the record and its tag written into one buffer: no copies to concatenate.
  const body = Buffer.allocUnsafe(HEADER_BYTES + plaintext.length + 1 + TAG_BYTES);
  body.set(salt, 0);
  body.writeUInt32BE(recordSize, 16);
  body[20] = 65;
  body.set(senderPublicKey, 21);
  const record = Buffer.allocUnsafe(plaintext.length + 1);
  record.set(plaintext, 0);
  record[plaintext.length] = LAST_RECORD;
  const cipher = createCipheriv('aes-128-gcm', key, nonce);
  // GCM is a stream mode: update() gives back exactly as many bytes as it was given.
  let at = HEADER_BYTES + cipher.update(record).copy(body, HEADER_BYTES);
  at += cipher.final().copy(body, at);
  cipher.getAuthTag().copy(body, at);
  return body;
}

// Salts come from a pool filled 256 at a time: one call into OpenSSL's RNG, not one a push.
// Each salt is handed out once (RFC 8188: never reused with the same keying material).
let pool = Buffer.alloc(0);
let taken = 0;
function freshSalt(): Buffer {
  if (taken === pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(16 * 256));
    taken = 0;
  }
  taken += 16;
  return pool.subarray(taken - 16, taken);
}

// The fixed inputs of the key schedule, each with HKDF-Expand's one-block counter (0x01).
const KEY_INFO = Buffer.from('WebPush: info\0');
const ONE = Buffer.of(1);
const CEK_INFO = Buffer.from('Content-Encoding: aes128gcm\0\x01');
const NONCE_INFO = Buffer.from('Content-Encoding: nonce\0\x01');

/** The key schedule of RFC 8291 §3.3-3.4 and RFC 8188 §2.2 (PUSH-FACTS.md §2.2). */
export function deriveKeys(
  ecdhSecret: Uint8Array,
  authSecret: Uint8Array,
  receiverPublicKey: Uint8Array,
  senderPublicKey: Uint8Array,
  salt: Uint8Array,
): { ikm: Buffer; key: Buffer; nonce: Buffer } {
  // HKDF-Expand for one block (L <= 32): T(1) = HMAC(PRK, info || 0x01).
  const ikm = createHmac('sha256', hmac(authSecret, ecdhSecret)).update(KEY_INFO).update(receiverPublicKey).update(senderPublicKey).update(ONE).digest();
  const prk = hmac(salt, ikm);
  const key = hmac(prk, CEK_INFO).subarray(0, 16);
  const nonce = hmac(prk, NONCE_INFO).subarray(0, 12);
  return { ikm, key, nonce };
}

function hmac(key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
