import { describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import webpush from 'web-push';
import { decrypt } from '../../../src/shared/aes128gcm.js';
import { fromBase64Url, toBase64Url } from '../../../src/shared/base64url.js';
import { isTidingsError } from '../../../src/shared/TidingsError.js';
import { makeSealKey, sealRecord } from './support/sealKey.js';

const b = (text: string) => fromBase64Url(text)!;

// RFC 8291 Appendix A (PUSH-FACTS.md §2.4).
const vector = {
  plaintext: 'When I grow up, I want to be a watermelon',
  uaPrivate: 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94',
  uaPublic: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4',
  auth: 'BTBZMqHH6r4Tts7J_aSIgg',
  body:
    'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
};

async function vectorKey() {
  const pub = b(vector.uaPublic);
  const privateKey = await webcrypto.subtle.importKey(
    'jwk',
    { kty: 'EC', crv: 'P-256', d: vector.uaPrivate, x: toBase64Url(pub.subarray(1, 33)), y: toBase64Url(pub.subarray(33)) },
    { name: 'ECDH', namedCurve: 'P-256' },
    false,
    ['deriveBits'],
  );
  return { privateKey, publicKey: pub, auth: b(vector.auth) };
}

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    expect(isTidingsError(error, 'unseal-failed')).toBe(true);
    return (error as { details: { field?: string } }).details.field;
  }
  throw new Error('expected a refusal');
}

describe('aes128gcm decrypt', () => {
  it('opens the RFC 8291 Appendix A message to its plaintext', async () => {
    const plain = await decrypt(b(vector.body), await vectorKey());
    expect(new TextDecoder().decode(plain)).toBe(vector.plaintext);
  });

  it("opens a record made by web-push's encrypt()", async () => {
    const key = await makeSealKey();
    const sealed = webpush.encrypt(key.p256dh, key.auth, 'sealed by web-push', 'aes128gcm');
    const plain = await decrypt(new Uint8Array(sealed.cipherText), key.unsealKey);
    expect(new TextDecoder().decode(plain)).toBe('sealed by web-push');
  });

  it('refuses a truncated record', async () => {
    const body = b(vector.body);
    expect(await refusal(decrypt(body.slice(0, 100), await vectorKey()))).toBe('length');
    expect(await refusal(decrypt(body.slice(0, body.length - 1), await vectorKey()))).toBe('key');
  });

  it('refuses a tampered record', async () => {
    const body = b(vector.body);
    body[100]! ^= 1;
    expect(await refusal(decrypt(body, await vectorKey()))).toBe('key');
  });

  it('refuses a record sealed to another key', async () => {
    const other = await makeSealKey();
    expect(await refusal(decrypt(b(vector.body), other.unsealKey))).toBe('key');
  });

  it('refuses a header whose key id is not a P-256 point, or whose record size is too small', async () => {
    const idlen = b(vector.body);
    idlen[20] = 64;
    expect(await refusal(decrypt(idlen, await vectorKey()))).toBe('idlen');
    const rs = b(vector.body);
    rs.set([0, 0, 0, 17], 16);
    expect(await refusal(decrypt(rs, await vectorKey()))).toBe('rs');
  });

  it('refuses a plaintext whose padding delimiter is not 2, and strips zero padding', async () => {
    const key = await makeSealKey();
    const hi = [104, 105];
    expect(await refusal(decrypt(sealRecord(key, new Uint8Array([...hi, 1])), key.unsealKey))).toBe('delimiter');
    expect(await refusal(decrypt(sealRecord(key, new Uint8Array([0, 0, 0])), key.unsealKey))).toBe('delimiter');
    const padded = await decrypt(sealRecord(key, new Uint8Array([...hi, 2, 0, 0, 0])), key.unsealKey);
    expect([...padded]).toEqual(hi);
  });
});
