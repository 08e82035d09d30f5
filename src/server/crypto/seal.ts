import type { Envelope, SealKey } from '../../shared/protocol.js';
import { fromBase64Url, fromP256Key, toBase64Url } from '../../shared/base64url.js';
import { TidingsError } from '../../shared/TidingsError.js';
import { validateEnvelope } from '../../shared/validateEnvelope.js';
import { encryptAes128gcm } from './aes128gcm.js';

/**
 * Seals an envelope to a client's seal key: an RFC 8291 aes128gcm record (the same
 * scheme as Web Push itself) whose plaintext is the envelope's JSON, as base64url.
 * Put it in `{v: 1, id, sealed}`; the worker opens it with the private half it keeps.
 */
export function seal(message: Envelope, sealKey: SealKey): string {
  const envelope = validateEnvelope(message);
  const publicKey = fromP256Key(sealKey?.p256dh);
  const auth = fromBase64Url(sealKey?.auth);
  if (!publicKey) {
    throw new TidingsError('invalid-option', { option: 'sealKey.p256dh', reason: 'must be a 65-byte P-256 key' });
  }
  if (!auth || auth.length !== 16) throw new TidingsError('invalid-option', { option: 'sealKey.auth', reason: 'must be 16 bytes' });
  const plaintext = Buffer.from(JSON.stringify(envelope), 'utf8');
  return toBase64Url(encryptAes128gcm(plaintext, publicKey, auth));
}
