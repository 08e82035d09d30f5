import { createCipheriv, createECDH, createHmac, randomBytes, webcrypto } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../../../../src/shared/base64url.js';
import type { UnsealKey } from '../../../../src/shared/aes128gcm.js';
import type { StoredSealKey } from '../../../../src/worker/db.js';

export interface TestSealKey {
  p256dh: string;
  auth: string;
  unsealKey: UnsealKey;
  stored: StoredSealKey;
}

/** A seal key pair as the page SDK makes one: the private half non-extractable. */
export async function makeSealKey(): Promise<TestSealKey> {
  const pair = (await webcrypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
    'deriveBits',
  ])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await webcrypto.subtle.exportKey('raw', pair.publicKey));
  const auth = new Uint8Array(randomBytes(16));
  const p256dh = toBase64Url(publicKey);
  return {
    p256dh,
    auth: toBase64Url(auth),
    unsealKey: { privateKey: pair.privateKey, publicKey, auth },
    stored: { privateKey: pair.privateKey, publicKey: { p256dh, auth: toBase64Url(auth) }, createdAt: Date.now() },
  };
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/**
 * Seals `record` (the plaintext with its delimiter and padding already appended) the
 * RFC 8291 way, for tests that need records web-push would never make.
 */
export function sealRecord(key: { p256dh: string; auth: string }, record: Uint8Array): Uint8Array<ArrayBuffer> {
  const ua = Buffer.from(fromBase64Url(key.p256dh)!);
  const ecdh = createECDH('prime256v1');
  const as = ecdh.generateKeys();
  const secret = ecdh.computeSecret(ua);
  const prkKey = hmac(Buffer.from(fromBase64Url(key.auth)!), secret);
  const ikm = hmac(prkKey, Buffer.concat([Buffer.from('WebPush: info\0'), ua, as, Buffer.from([1])]));
  const salt = randomBytes(16);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  const body = Buffer.concat([cipher.update(record), cipher.final(), cipher.getAuthTag()]);
  const header = Buffer.alloc(21);
  salt.copy(header);
  header.writeUInt32BE(4096, 16);
  header[20] = 65;
  return new Uint8Array(Buffer.concat([header, as, body]));
}
