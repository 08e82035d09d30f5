import { describe, expect, it } from 'vitest';
import { createVapidSigner } from '../../../src/server/send/createVapidSigner.js';
import { generateVapidKeys } from '../../../src/server/index.js';
import { verifyVapid } from '../../../src/testing/index.js';

describe('createVapidSigner', () => {
  const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };

  it('signs once per push-service origin and renews an hour before the 12 h expiry', () => {
    let now = Date.now();
    const sign = createVapidSigner(vapid, () => now);
    const first = sign('https://push.example.net');
    expect(sign('https://push.example.net')).toBe(first);
    expect(sign('https://fcm.example.com')).not.toBe(first);
    expect(verifyVapid(first, { audience: 'https://push.example.net', now })).toMatchObject({ ok: true, publicKey: vapid.publicKey });
    now += 10.9 * 3600 * 1000;
    expect(sign('https://push.example.net')).toBe(first);
    now += 0.2 * 3600 * 1000;
    const renewed = sign('https://push.example.net');
    expect(renewed).not.toBe(first);
    expect(verifyVapid(renewed, { audience: 'https://push.example.net', now }).ok).toBe(true);
  });

  it('keeps the tokens of at most 1,024 origins, forgetting the one used longest ago', () => {
    const sign = createVapidSigner(vapid);
    const kept = sign('https://web.push.apple.com');
    const dropped = sign('https://junk-0.push.apple.com');
    for (let i = 1; i < 1024; i++) {
      sign(`https://junk-${i}.push.apple.com`);
      // In use all along: never the one to go.
      expect(sign('https://web.push.apple.com')).toBe(kept);
    }
    // ECDSA signatures are randomised: a token signed again differs.
    expect(sign('https://junk-0.push.apple.com')).not.toBe(dropped);
    expect(sign('https://web.push.apple.com')).toBe(kept);
  });
});
