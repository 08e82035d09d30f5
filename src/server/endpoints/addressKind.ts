import { isIP } from 'node:net';

/**
 * What an IP address reaches. Only `public` is a place a push service can be; the rest
 * are the backend's own host or network (or nowhere), which sends must never reach.
 */
export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

type V4Range = readonly [base: number, bits: number, kind: AddressKind];

// IANA's IPv4 special-purpose registry (RFC 6890 and successors), most specific first
// where ranges nest (the broadcast address inside 240/4).
const V4_RANGES: readonly V4Range[] = [
  [ip4(0, 0, 0, 0), 8, 'unspecified'], // "this network": 0.0.0.0 reaches the local host on Linux
  [ip4(10, 0, 0, 0), 8, 'private'],
  [ip4(100, 64, 0, 0), 10, 'private'], // carrier-grade NAT, RFC 6598
  [ip4(127, 0, 0, 0), 8, 'loopback'],
  [ip4(169, 254, 0, 0), 16, 'link-local'], // cloud metadata lives here
  [ip4(172, 16, 0, 0), 12, 'private'],
  [ip4(192, 0, 0, 0), 24, 'reserved'],
  [ip4(192, 0, 2, 0), 24, 'reserved'],
  [ip4(192, 88, 99, 0), 24, 'reserved'],
  [ip4(192, 168, 0, 0), 16, 'private'],
  [ip4(198, 18, 0, 0), 15, 'reserved'],
  [ip4(198, 51, 100, 0), 24, 'reserved'],
  [ip4(203, 0, 113, 0), 24, 'reserved'],
  [ip4(224, 0, 0, 0), 4, 'multicast'],
  [ip4(255, 255, 255, 255), 32, 'broadcast'],
  [ip4(240, 0, 0, 0), 4, 'reserved'],
];

/**
 * Classifies an IP address as the resolver or a URL's host gives it: dotted IPv4, or
 * IPv6 with or without brackets and zone. IPv4-mapped, IPv4-compatible, NAT64 and 6to4
 * forms are judged by the IPv4 address inside them, so `::ffff:127.0.0.1` is loopback.
 * Anything that is not an IP address is `reserved`.
 */
export function addressKind(address: string): AddressKind {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return v4Kind(parseV4(bare));
  if (family === 6) return v6Kind(parseV6(bare));
  return 'reserved';
}

function v4Kind(value: number): AddressKind {
  for (const [base, bits, kind] of V4_RANGES) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if (((value & mask) >>> 0) === base) return kind;
  }
  return 'public';
}

function v6Kind(g: number[]): AddressKind {
  const embedded = (((g[6]! << 16) | g[7]!) >>> 0);
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  if (zeroUpTo(5) && g[5] === 0xffff) return v4Kind(embedded); // ::ffff:a.b.c.d, mapped
  if (zeroUpTo(6)) {
    // ::a.b.c.d, IPv4-compatible: deprecated (RFC 4291), so never a push service.
    const kind = v4Kind(embedded);
    return kind === 'public' ? 'reserved' : kind;
  }
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Kind(embedded); // NAT64
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'private'; // local-use NAT64
  if (g[0] === 0x2002) return v4Kind(((g[1]! << 16) | g[2]!) >>> 0); // 6to4
  if (g[0] === 0x2001 && g[1]! < 0x200) return 'reserved'; // IETF protocol assignments: Teredo, ORCHID, benchmarking
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved'; // documentation
  if (g[0] === 0x100 && zeroUpTo(4)) return 'reserved'; // discard-only
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private'; // site-local, deprecated
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  // Global unicast is 2000::/3; everything else is unassigned or special.
  return (g[0]! & 0xe000) === 0x2000 ? 'public' : 'reserved';
}

function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function parseV4(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return ip4(a, b, c, d);
}

/** Eight 16-bit groups of an address `isIP` already accepted as IPv6. */
export function parseV6(text: string): number[] {
  let hex = text;
  const tail = hex.slice(hex.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    hex = `${hex.slice(0, hex.length - tail.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, rest] = hex.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').map((x) => parseInt(x, 16)) : []);
  const left = groups(head);
  if (rest === undefined) return left;
  const right = groups(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
