import { isIP } from 'node:net';

/** Second-level labels under which a country code sells names (`co.uk`, `com.au`). */
const GENERIC_SECOND_LEVEL = new Set(['ac', 'co', 'com', 'edu', 'gov', 'mil', 'ne', 'net', 'or', 'org']);

/**
 * The push service a host belongs to, as the circuit breaker groups hosts that never
 * answer: something a registrant cannot multiply at will. A host a `*.domain` entry of
 * `pushServices` admits belongs to that domain (every `<random>.push.apple.com` is
 * `push.apple.com`); one an exact entry admits is its own group. Other hosts (`'any'`,
 * loopback) go by the name's registrable part, approximated without the public-suffix
 * list as its last two labels, or three under a country code whose second label is a
 * generic one (`example.co.uk`); an IP literal by its /24 (IPv4) or /32 (IPv6). Buying a
 * domain costs money; a subdomain, nothing.
 */
export function pushServiceGroup(hostname: string, pushServices: readonly string[] | 'any'): string {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 4) return `${bare.split('.').slice(0, 3).join('.')}.0/24`;
  if (family === 6) return `${expandV6(bare).slice(0, 2).join(':')}::/32`;
  const name = bare.replace(/\.+$/, '');
  if (pushServices !== 'any') {
    for (const entry of pushServices) {
      const pattern = entry.replace(/:\d+$/, '');
      if (pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern) return pattern.replace(/^\*\./, '');
    }
  }
  const labels = name.split('.');
  const keep = labels.length > 2 && labels.at(-1)!.length === 2 && GENERIC_SECOND_LEVEL.has(labels.at(-2)!) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/** The eight groups of an IPv6 address (an embedded IPv4 tail counts as two; only the first two are read). */
function expandV6(address: string): string[] {
  const [head = '', tail] = address.replace(/%.*$/, '').split('::');
  const front = head ? head.split(':') : [];
  if (tail === undefined) return front;
  const back = tail ? tail.split(':') : [];
  return [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back].map((group) => group.replace(/^0+(?=.)/, ''));
}
