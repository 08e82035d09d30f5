import { describe, expect, it } from 'vitest';
import { addressKind } from '../../../src/server/endpoints/addressKind.js';
import { checkEndpoint, DEFAULT_PUSH_SERVICES, type EndpointPolicy } from '../../../src/server/endpoints/checkEndpoint.js';
import { generateVapidKeys, createPushServer, memoryStore } from '../../../src/server/index.js';

const defaults: EndpointPolicy = { pushServices: DEFAULT_PUSH_SERVICES, allowLoopbackEndpoints: false };
const any: EndpointPolicy = { pushServices: 'any', allowLoopbackEndpoints: false };
const anyWithLoopback: EndpointPolicy = { pushServices: 'any', allowLoopbackEndpoints: true };

function reason(value: unknown, policy: EndpointPolicy): string | undefined {
  try {
    checkEndpoint(value, policy);
    return undefined;
  } catch (error) {
    expect(error).toMatchObject({ code: 'invalid-request', details: { field: 'subscription.endpoint' } });
    return (error as { details: { reason: string } }).details.reason;
  }
}

/** Every spelling of the backend's own host or network the issue found accepted, and more. */
export const hostileEndpoints: [string, string][] = [
  ['https://10.0.0.1/push', 'private-address'],
  ['https://10.255.255.255/push', 'private-address'],
  ['https://172.16.0.1/push', 'private-address'],
  ['https://172.31.255.254/push', 'private-address'],
  ['https://192.168.1.1/push', 'private-address'],
  ['https://100.64.0.1/push', 'private-address'],
  ['https://169.254.169.254/latest/meta-data/', 'link-local-address'],
  ['https://[fd00::1]/push', 'unique-local-address'],
  ['https://[fc00::1]/push', 'unique-local-address'],
  ['https://[fe80::1]/push', 'link-local-address'],
  ['https://[fec0::1]/push', 'private-address'],
  ['https://db:5432/push', 'private-address'],
  ['https://db/push', 'private-address'],
  ['https://internal.corp/push', 'private-address'],
  ['https://printer.local/push', 'private-address'],
  ['https://metadata.google.internal/push', 'private-address'],
  ['https://[::ffff:127.0.0.1]/push', 'loopback'],
  ['https://[::ffff:7f00:1]/push', 'loopback'],
  ['https://[::ffff:10.0.0.1]/push', 'private-address'],
  ['https://[::ffff:169.254.169.254]/push', 'link-local-address'],
  ['https://[::127.0.0.1]/push', 'loopback'],
  ['https://[::10.0.0.1]/push', 'private-address'],
  ['https://[::8.8.8.8]/push', 'reserved-address'],
  ['https://[64:ff9b::127.0.0.1]/push', 'loopback'],
  ['https://[2002:7f00:1::]/push', 'loopback'],
  ['https://[2002:a9fe:a9fe::]/push', 'link-local-address'],
  ['https://0.0.0.0/push', 'unspecified-address'],
  ['https://0/push', 'unspecified-address'],
  ['https://[::]/push', 'unspecified-address'],
  ['https://[::1]/push', 'loopback'],
  ['https://127.0.0.1/push', 'loopback'],
  ['https://127.1/push', 'loopback'],
  ['https://2130706433/push', 'loopback'],
  ['https://017700000001/push', 'loopback'],
  ['https://0x7f000001/push', 'loopback'],
  ['https://0x7f.0.0.1/push', 'loopback'],
  ['https://0177.0.0.1/push', 'loopback'],
  ['https://127.0.0.1./push', 'loopback'],
  ['https://167772161/push', 'private-address'], // 10.0.0.1 in decimal
  ['https://0xa9.0xfe.0xa9.0xfe/push', 'link-local-address'],
  ['https://localhost/push', 'loopback'],
  ['https://localhost./push', 'loopback'],
  ['https://LOCALHOST/push', 'loopback'],
  ['https://foo.localhost/push', 'loopback'],
  ['https://%6c%6fcalhost/push', 'loopback'],
  ['https://ｌｏｃａｌｈｏｓｔ/push', 'loopback'],
  ['https://224.0.0.1/push', 'multicast-address'],
  ['https://[ff02::1]/push', 'multicast-address'],
  ['https://255.255.255.255/push', 'broadcast-address'],
  ['https://240.0.0.1/push', 'reserved-address'],
  ['https://192.0.2.1/push', 'reserved-address'],
  ['http://127.0.0.1:6379/', 'loopback'],
  ['http://10.0.0.1/push', 'private-address'],
  ['https://push.example.net:8443/push', 'not-push-service'],
  ['https://push.example.net:5432/push', 'not-push-service'],
  ['http://push.example.net/push', 'not-https'],
  ['https://user:pw@push.example.net/push', 'credentials'],
  ['ftp://push.example.net/push', 'scheme'],
  ['gopher://127.0.0.1:6379/_FLUSHALL', 'scheme'],
  ['file:///etc/passwd', 'scheme'],
  ['not a url', 'not-url'],
];

describe('checkEndpoint', () => {
  it.each(hostileEndpoints)('refuses %s (%s) even when any public push service is allowed', (endpoint, why) => {
    expect(reason(endpoint, any)).toBe(why);
    // The known push services only, by default: refused all the more.
    expect(reason(endpoint, defaults)).toBeDefined();
  });

  it.each([
    'https://[::ffff:127.0.0.1]/push',
    'https://[::127.0.0.1]/push',
    'https://0.0.0.0/push',
    'https://[::]/push',
    'https://localhost./push',
    'https://foo.localhost/push',
    'https://10.0.0.1/push',
  ])('refuses %s with loopback allowed: only the spellings a local push service uses pass', (endpoint) => {
    expect(reason(endpoint, anyWithLoopback)).toBeDefined();
  });

  it.each([
    ['http://127.0.0.1:8090/wpush/v1/x', 'http://127.0.0.1:8090/wpush/v1/x'],
    ['https://127.0.0.1:6379/x', 'https://127.0.0.1:6379/x'],
    ['http://localhost:9/x', 'http://localhost:9/x'],
    ['http://[::1]:9/x', 'http://[::1]:9/x'],
    ['http://0x7f.1:9/x', 'http://127.0.0.1:9/x'],
  ])('accepts the loopback endpoint %s when allowed, normalised', (endpoint, href) => {
    expect(checkEndpoint(endpoint, anyWithLoopback)).toBe(href);
    expect(reason(endpoint, { ...defaults, allowLoopbackEndpoints: false })).toBe('loopback');
  });

  it.each([
    ['https://fcm.googleapis.com/fcm/send/abc:def', 'https://fcm.googleapis.com/fcm/send/abc:def'],
    ['https://FCM.googleapis.com:443/fcm/send/x', 'https://fcm.googleapis.com/fcm/send/x'],
    ['https://updates.push.services.mozilla.com/wpush/v2/gAAA', 'https://updates.push.services.mozilla.com/wpush/v2/gAAA'],
    ['https://web.push.apple.com/QGuQy', 'https://web.push.apple.com/QGuQy'],
    ['https://wns2-by3p.notify.windows.com/w/?token=x', 'https://wns2-by3p.notify.windows.com/w/?token=x'],
  ])('accepts the known push service endpoint %s by default', (endpoint, href) => {
    expect(checkEndpoint(endpoint, defaults)).toBe(href);
  });

  it.each([
    'https://push.example.net/x',
    'https://fcm.googleapis.com:8443/x',
    'https://fcm.googleapis.com.evil.example/x',
    'https://evilfcm.googleapis.com/x',
    'https://push.apple.com/x',
    'https://evilpush.apple.com/x',
    'https://push.apple.com.evil.example/x',
    'https://fcm.googleapis.com./x',
  ])('refuses %s by default: not one of the known push services on 443', (endpoint) => {
    expect(reason(endpoint, defaults)).toBe('not-push-service');
  });

  it('takes a listed host with its port, and wildcards only below the named domain', () => {
    const policy: EndpointPolicy = { pushServices: ['push.example.net:8443', '*.push.example.org'], allowLoopbackEndpoints: false };
    expect(checkEndpoint('https://push.example.net:8443/a', policy)).toBe('https://push.example.net:8443/a');
    expect(reason('https://push.example.net/a', policy)).toBe('not-push-service');
    expect(checkEndpoint('https://eu.push.example.org/a', policy)).toBe('https://eu.push.example.org/a');
    expect(reason('https://push.example.org/a', policy)).toBe('not-push-service');
  });

  it('bounds the length after normalisation: 2,000 € would be stored as 18,000 characters', () => {
    const euros = `https://fcm.googleapis.com/fcm/send/${'€'.repeat(2000)}`;
    expect(euros.length).toBeLessThan(2048);
    expect(reason(euros, defaults)).toBe('too-long');
    expect(reason(`https://fcm.googleapis.com/${'a'.repeat(2100)}`, defaults)).toBe('too-long');
    expect(checkEndpoint(`https://fcm.googleapis.com/${'a'.repeat(1900)}`, defaults)).toHaveLength(1927);
  });

  it.each([
    ['https://fcm.googleapis.com/fcm/send/%61bc', 'https://fcm.googleapis.com/fcm/send/abc'],
    ['https://fcm.googleapis.com/fcm/send/a%7e%2d%2E%5F', 'https://fcm.googleapis.com/fcm/send/a~-._'],
    ['https://fcm.googleapis.com/fcm/send/a%2fb%3a', 'https://fcm.googleapis.com/fcm/send/a%2Fb%3A'],
    ['https://fcm.googleapis.com/fcm/send/abc?', 'https://fcm.googleapis.com/fcm/send/abc'],
    ['https://FCM.GoogleAPIs.com:443/fcm/send/./abc', 'https://fcm.googleapis.com/fcm/send/abc'],
    ['https://wns2-par02p.notify.windows.com/w/?token=a%2bb%3d', 'https://wns2-par02p.notify.windows.com/w/?token=a%2Bb%3D'],
    ['https://wns2-par02p.notify.windows.com/w/?token=%61b', 'https://wns2-par02p.notify.windows.com/w/?token=ab'],
  ])('gives %s one spelling: %s', (endpoint, normal) => {
    expect(checkEndpoint(endpoint, defaults)).toBe(normal);
  });

  it.each([
    ['https://fcm.googleapis.com/fcm/send/abc#x', 'fragment'],
    ['https://fcm.googleapis.com/fcm/send/abc#', 'fragment'],
    ['https://fcm.googleapis.com/fcm//send/abc', 'empty-path-segment'],
    ['https://fcm.googleapis.com/fcm/send/abc/', undefined],
    ['https://fcm.googleapis.com/fcm/send/abc?q', 'query'],
    ['https://updates.push.services.mozilla.com/wpush/v2/abc?x=1', 'query'],
    ['https://web.push.apple.com/abc?x', 'query'],
  ])('refuses %s as a spelling no push service hands out (%s)', (endpoint, why) => {
    expect(reason(endpoint, defaults)).toBe(why);
  });

  it('keeps a query where it can be the push resource (UnifiedPush, a local push service)', () => {
    expect(checkEndpoint('https://ntfy.example.org/upAbC?up=1', any)).toBe('https://ntfy.example.org/upAbC?up=1');
    expect(checkEndpoint('http://127.0.0.1:4801/wpush/v2/x?y', anyWithLoopback)).toBe('http://127.0.0.1:4801/wpush/v2/x?y');
  });

  it('refuses what is not a string', () => {
    expect(reason(42, defaults)).toBe('not-string');
    expect(reason(null, defaults)).toBe('not-string');
  });
});

describe('addressKind', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2a00:1450:4001:80b::200a', 'public'],
    ['127.0.0.53', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:8.8.8.8', 'public'],
    ['fe80::1%eth0', 'link-local'],
    ['[fd12:3456::1]', 'unique-local'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['not-an-ip', 'reserved'],
  ])('calls %s %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
  });
});

describe('registration through the handler', () => {
  const subscription = {
    keys: { p256dh: generateVapidKeys().publicKey, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
    expirationTime: null,
  };
  it.each(hostileEndpoints.filter(([, why]) => why !== 'not-push-service'))('answers 400 for %s and stores nothing', async (endpoint, why) => {
    const store = memoryStore();
    const server = createPushServer({ vapid: { ...generateVapidKeys(), subject: 'mailto:ops@site.example' }, store });
    const response = await server.handler(
      new Request('https://site.example/api/push/subscriptions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subscription: { ...subscription, endpoint } }),
      }),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid-request', field: 'subscription.endpoint', reason: why });
    expect(await store.findSubscriptions()).toEqual([]);
  });
});
