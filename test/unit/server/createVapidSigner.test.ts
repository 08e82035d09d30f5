import { describe, expect, it } from 'vitest';
import { createVapidSigner } from '../../../src/server/send/createVapidSigner.js';
import { generateVapidKeys } from '../../../src/server/index.js';
import { verifyVapid } from '../../../src/testing/index.js';

describe('createVapidSigner', () => {
  const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };

  it('signs once per push-service origin and renews an hour before the 12 h expiry', () => {
    let now = Date.now();
    const sign = createVapidSigner(vapid, () => now);
    const first = sign('https://push.example.net/wpush/v2/a');
    expect(sign('https://push.example.net/wpush/v2/b')).toBe(first);
    expect(sign('https://fcm.example.com/send/c')).not.toBe(first);
    expect(verifyVapid(first, { audience: 'https://push.example.net', now })).toMatchObject({ ok: true, publicKey: vapid.publicKey });
    now += 10.9 * 3600 * 1000;
    expect(sign('https://push.example.net/x')).toBe(first);
    now += 0.2 * 3600 * 1000;
    const renewed = sign('https://push.example.net/x');
    expect(renewed).not.toBe(first);
    expect(verifyVapid(renewed, { audience: 'https://push.example.net', now }).ok).toBe(true);
  });
});
