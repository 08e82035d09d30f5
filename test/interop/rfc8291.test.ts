import { createECDH, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { deriveKeys, encryptAes128gcm } from '../../src/server/crypto/aes128gcm.js';
import { openText, receiverFrom } from '../support/receiver.js';
import { fromBase64Url, toBase64Url } from '../../src/shared/base64url.js';

// RFC 8291 §5 and Appendix A (PUSH-FACTS.md §2.4).
const vector = {
  plaintext: 'When I grow up, I want to be a watermelon',
  asPrivate: 'yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw',
  asPublic: 'BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8',
  uaPrivate: 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94',
  uaPublic: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4',
  authSecret: 'BTBZMqHH6r4Tts7J_aSIgg',
  salt: 'DGv6ra1nlYgDCS1FRnbzlw',
  ecdhSecret: 'kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs',
  ikm: 'S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg',
  cek: 'oIhVW04MRdy2XN9CiKLxTg',
  nonce: '4h_95klXJ5E_qnoN',
  body:
    'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
};
const bytes = (text: string) => fromBase64Url(text)!;

/** The user agent's key pair with node:crypto, to check the sender's key schedule step by step. */
function nodeReceiver(): ReturnType<typeof createECDH> {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(bytes(vector.uaPrivate));
  return ecdh;
}

/** The same key pair as WebCrypto holds it, for the shared opener the worker uses. */
const receiver = () => receiverFrom(vector.uaPrivate, vector.uaPublic, vector.authSecret);

describe('RFC 8291 Appendix A', () => {
  it('derives the same intermediate values', () => {
    const ua = nodeReceiver();
    const secret = ua.computeSecret(bytes(vector.asPublic));
    expect(toBase64Url(secret)).toBe(vector.ecdhSecret);
    const { ikm, key, nonce } = deriveKeys(secret, bytes(vector.authSecret), bytes(vector.uaPublic), bytes(vector.asPublic), bytes(vector.salt));
    expect(toBase64Url(ikm)).toBe(vector.ikm);
    expect(toBase64Url(key)).toBe(vector.cek);
    expect(toBase64Url(nonce)).toBe(vector.nonce);
  });

  it('encrypts to the exact 144-byte body with the fixed sender key and salt', () => {
    const body = encryptAes128gcm(Buffer.from(vector.plaintext), bytes(vector.uaPublic), bytes(vector.authSecret), {
      senderPrivateKey: bytes(vector.asPrivate),
      salt: bytes(vector.salt),
    });
    expect(body.length).toBe(144);
    expect(toBase64Url(body)).toBe(vector.body);
  });

  it('decrypts the body with the user agent key and auth secret', async () => {
    expect(await openText(vector.body, await receiver())).toBe(vector.plaintext);
  });

  it('refuses a tampered body, a wrong auth secret and a truncated body', async () => {
    const tampered = bytes(vector.body);
    tampered[100]! ^= 1;
    const refused = expect.objectContaining({ code: 'unseal-failed' });
    await expect(openText(tampered, await receiver())).rejects.toEqual(refused);
    await expect(openText(vector.body, { ...(await receiver()), auth: new Uint8Array(16) })).rejects.toEqual(refused);
    await expect(openText(bytes(vector.body).subarray(0, 90), await receiver())).rejects.toEqual(
      expect.objectContaining({ details: expect.objectContaining({ field: 'length' }) }),
    );
  });

  it("opens what web-push's own encrypt() produces", async () => {
    const { cipherText } = webpush.encrypt(vector.uaPublic, vector.authSecret, 'from web-push', 'aes128gcm');
    expect(await openText(new Uint8Array(cipherText), await receiver())).toBe('from web-push');
  });

  it('keeps a plaintext larger than 4 KB in one record, which the opener accepts', async () => {
    const big = 'a'.repeat(10_000);
    const body = encryptAes128gcm(Buffer.from(big), bytes(vector.uaPublic), bytes(vector.authSecret));
    expect(body.readUInt32BE(16)).toBe(10_000 + 17);
    expect(await openText(body, await receiver())).toBe(big);
  });

  it('gives every message a fresh sender key pair and salt, which web-push\'s decryption and the shared opener both open', async () => {
    // http_ece is the library web-push encrypts with; its decrypt() is the other side of it.
    const ece = createRequire(import.meta.url)('http_ece') as {
      decrypt(body: Buffer, params: { version: string; privateKey: ReturnType<typeof createECDH>; authSecret: Buffer }): Buffer;
    };
    const ua = nodeReceiver();
    const open = await receiver();
    const senders = new Set<string>();
    const salts = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const text = `message ${i} ${'x'.repeat(i * 7)}`;
      const body = encryptAes128gcm(Buffer.from(text), bytes(vector.uaPublic), bytes(vector.authSecret));
      expect(body.length).toBe(86 + Buffer.byteLength(text) + 1 + 16);
      salts.add(toBase64Url(body.subarray(0, 16)));
      senders.add(toBase64Url(body.subarray(21, 86)));
      expect(ece.decrypt(body, { version: 'aes128gcm', privateKey: ua, authSecret: bytes(vector.authSecret) as Buffer }).toString('utf8')).toBe(text);
      expect(await openText(body, open)).toBe(text);
    }
    expect(senders.size).toBe(40);
    expect(salts.size).toBe(40);
  });

  it('still encrypts after a receiver key that is not on the curve was refused', async () => {
    const offCurve = Buffer.from(bytes(vector.uaPublic));
    offCurve[40]! ^= 1;
    expect(() => encryptAes128gcm(Buffer.from('x'), offCurve, bytes(vector.authSecret))).toThrow();
    const auth = randomBytes(16);
    const body = encryptAes128gcm(Buffer.from('after'), bytes(vector.uaPublic), auth);
    expect(await openText(body, { ...(await receiver()), auth })).toBe('after');
  });
});
