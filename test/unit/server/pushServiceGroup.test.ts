import { describe, expect, it } from 'vitest';
import { pushServiceGroup } from '../../../src/server/endpoints/pushServiceGroup.js';
import { DEFAULT_PUSH_SERVICES } from '../../../src/server/endpoints/checkEndpoint.js';

describe('pushServiceGroup', () => {
  it('groups every subdomain a wildcard entry admits under that entry', () => {
    expect(pushServiceGroup('web.push.apple.com', DEFAULT_PUSH_SERVICES)).toBe('push.apple.com');
    expect(pushServiceGroup('x9q2zz.push.apple.com', DEFAULT_PUSH_SERVICES)).toBe('push.apple.com');
    expect(pushServiceGroup('wns2-par02p.notify.windows.com', DEFAULT_PUSH_SERVICES)).toBe('notify.windows.com');
    expect(pushServiceGroup('fcm.googleapis.com', DEFAULT_PUSH_SERVICES)).toBe('fcm.googleapis.com');
    expect(pushServiceGroup('a.b.push.example.net', ['*.push.example.net:8443'])).toBe('push.example.net');
  });

  it('groups other names by their registrable part, which costs money to multiply', () => {
    expect(pushServiceGroup('h1.tarpit.example', 'any')).toBe('tarpit.example');
    expect(pushServiceGroup('a.b.c.evil.example.co.uk', 'any')).toBe('example.co.uk');
    expect(pushServiceGroup('push.example.com.au', 'any')).toBe('example.com.au');
    expect(pushServiceGroup('push.example.de', 'any')).toBe('example.de');
    expect(pushServiceGroup('localhost', 'any')).toBe('localhost');
    expect(pushServiceGroup('push.example.net.', 'any')).toBe('example.net');
  });

  it('groups IP addresses by their /24 or /32', () => {
    expect(pushServiceGroup('203.0.113.7', 'any')).toBe('203.0.113.0/24');
    expect(pushServiceGroup('[2001:db8::1]', 'any')).toBe('2001:db8::/32');
    expect(pushServiceGroup('[2001:db8:ffff::1]', 'any')).toBe('2001:db8::/32');
    expect(pushServiceGroup('[::1]', 'any')).toBe('0:0::/32');
  });
});
