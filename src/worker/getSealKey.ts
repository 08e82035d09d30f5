import { getValue, withTidingsDB, type StoredSealKey } from './db.js';
import { toBase64Url } from '../shared/base64url.js';
import type { SealKey } from '../shared/protocol.js';

/**
 * The public half of this browser's seal key, made on first use: an ECDH P-256 pair
 * whose private key is non-extractable and stays in IndexedDB as a CryptoKey, and a
 * 16-byte auth secret (RFC 8291's inputs, so the worker opens what the server seals).
 */
export async function getSealKey(): Promise<SealKey> {
  const existing = await withTidingsDB((db) => getValue(db, 'sealKey'));
  if (existing) return existing.publicKey;
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const key: StoredSealKey = {
    privateKey: pair.privateKey,
    publicKey: {
      p256dh: toBase64Url(await crypto.subtle.exportKey('raw', pair.publicKey)),
      auth: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
    },
    createdAt: Date.now(),
  };
  // add() refuses to overwrite: when another tab made a key meanwhile, its key wins here too.
  return withTidingsDB(async (db) => {
    await db.add('kv', key, 'sealKey').catch(() => undefined);
    return ((await getValue(db, 'sealKey')) ?? key).publicKey;
  });
}
