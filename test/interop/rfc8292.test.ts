import { describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { generateVapidKeys } from '../../src/server/index.js';
import { verifyVapid } from '../../src/testing/index.js';
import { vapidAuthorization } from '../../src/server/crypto/vapidAuthorization.js';
import { createVapidSigner } from '../../src/server/send/createVapidSigner.js';

// RFC 8292 §2.4 (PUSH-FACTS.md §3.5): the token expired in 2016, so the clock is fixed.
const t =
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0.i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA';
const k = 'BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs';
const exp = 1453523768;
const header = `vapid t=${t}, k=${k}`;
const audience = 'https://push.example.net';
const before = (exp - 3600) * 1000;

describe('RFC 8292 example token', () => {
  it('verifies an hour before it expires', () => {
    expect(verifyVapid(header, { audience, now: before })).toEqual({
      ok: true,
      publicKey: k,
      claims: { aud: audience, exp, sub: 'mailto:push@example.com' },
    });
  });

  it('is refused once expired, for another audience, by another key, or when garbled', () => {
    expect(verifyVapid(header, { audience, now: (exp + 1) * 1000 })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyVapid(header, { audience, now: (exp - 2 * 86400) * 1000 })).toEqual({ ok: false, reason: 'expiry-too-far' });
    expect(verifyVapid(header, { audience: 'https://push.example.org', now: before })).toEqual({ ok: false, reason: 'audience' });
    const other = generateVapidKeys().publicKey;
    expect(verifyVapid(`vapid t=${t}, k=${other}`, { audience, now: before })).toEqual({ ok: false, reason: 'signature' });
    const flipped = t.slice(0, -2) + (t.endsWith('A') ? 'B' : 'A') + t.slice(-1);
    expect(verifyVapid(`vapid t=${flipped}, k=${k}`, { audience, now: before }).ok).toBe(false);
    for (const bad of ['', 'Bearer x', 'vapid t=x', 'vapid t=a.b.c, k=' + k, `vapid t=${t}, k=AAAA`, `WebPush ${t}`]) {
      expect(verifyVapid(bad, { audience, now: before }).ok).toBe(false);
    }
  });

  it("accepts web-push's own VAPID header for the right origin", () => {
    const keys = generateVapidKeys();
    const { Authorization } = webpush.getVapidHeaders('http://127.0.0.1:9', 'mailto:a@b.c', keys.publicKey, keys.privateKey, 'aes128gcm');
    expect(verifyVapid(Authorization, { audience: 'http://127.0.0.1:9' })).toMatchObject({ ok: true, publicKey: keys.publicKey });
  });

  it("signs with node:crypto (workerd's signer) a token web-push's own would match, claim for claim", () => {
    const keys = { ...generateVapidKeys(), subject: 'mailto:a@b.c' };
    const expiration = Math.floor(Date.now() / 1000) + 3600;
    const ours = vapidAuthorization('https://fcm.googleapis.com', keys, expiration);
    const theirs = webpush.getVapidHeaders('https://fcm.googleapis.com', keys.subject, keys.publicKey, keys.privateKey, 'aes128gcm', expiration).Authorization;
    const parts = (header: string) => {
      const [, token, key] = /^vapid t=([^,]+), k=(.+)$/.exec(header)!;
      const [head, claims, signature] = token!.split('.');
      return { head: JSON.parse(Buffer.from(head!, 'base64url').toString()), claims: JSON.parse(Buffer.from(claims!, 'base64url').toString()), bytes: Buffer.from(signature!, 'base64url').length, key };
    };
    expect(parts(ours)).toEqual(parts(theirs));
    expect(parts(ours).bytes).toBe(64);
    expect(verifyVapid(ours, { audience: 'https://fcm.googleapis.com' })).toMatchObject({ ok: true, publicKey: keys.publicKey, claims: { sub: 'mailto:a@b.c', exp: expiration } });
    // Signed by this key and no other: another key's public half does not verify it.
    const other = generateVapidKeys().publicKey;
    expect(verifyVapid(ours.replace(keys.publicKey, other), { audience: 'https://fcm.googleapis.com' })).toMatchObject({ ok: false, reason: 'signature' });
    // createVapidSigner takes it where it runs in workerd.
    const signer = createVapidSigner(keys, Date.now, 'workerd');
    expect(verifyVapid(signer('https://push.example.net'), { audience: 'https://push.example.net' })).toMatchObject({ ok: true });
  });
});
