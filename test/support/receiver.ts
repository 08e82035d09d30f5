import { randomBytes } from 'node:crypto';
import { decrypt, type UnsealKey } from '../../src/shared/aes128gcm.js';
import { fromBase64Url, toBase64Url } from '../../src/shared/base64url.js';

/** A receiving key pair as a browser (or the worker's seal key) holds it, with its public half as registered. */
export interface Receiver extends UnsealKey {
  keys: { p256dh: string; auth: string };
}

/** A fresh P-256 key pair and auth secret, with WebCrypto, as the worker makes them. */
export async function newReceiver(): Promise<Receiver> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const auth = new Uint8Array(randomBytes(16));
  return { privateKey: pair.privateKey, publicKey, auth, keys: { p256dh: toBase64Url(publicKey), auth: toBase64Url(auth) } };
}

/** A receiver from known keys (base64url): the private scalar, the raw public key and the auth secret. */
export async function receiverFrom(privateKey: string, publicKey: string, auth: string): Promise<Receiver> {
  const raw = fromBase64Url(publicKey)!;
  const jwk = { kty: 'EC', crv: 'P-256', d: privateKey, x: toBase64Url(raw.subarray(1, 33)), y: toBase64Url(raw.subarray(33)) };
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  return { privateKey: key, publicKey: raw, auth: fromBase64Url(auth)!, keys: { p256dh: publicKey, auth } };
}

/** Opens an RFC 8291 body (bytes or base64url) to text with the shared WebCrypto opener. */
export async function openText(body: Uint8Array | string, receiver: UnsealKey): Promise<string> {
  const bytes = typeof body === 'string' ? fromBase64Url(body)! : new Uint8Array(body);
  return new TextDecoder().decode(await decrypt(bytes, receiver));
}
