import { isIP } from 'node:net';
import { invalidOption as invalid } from '../common/checkOptions.js';
import { parseV4, parseV6 } from '../endpoints/addressKind.js';

/**
 * Which proxies in front of the handler may say who the client is, through
 * `X-Forwarded-For`: `false`, none (the peer is the client); a number, that many proxies
 * (the peer and the last n - 1 entries of the header are proxies); or the addresses and
 * CIDR ranges of your proxies (`['10.0.0.0/8', '::1']`).
 */
export type TrustProxy = false | number | readonly string[];

/** An address as eight 16-bit groups; IPv4 as its IPv4-mapped IPv6 form, so one comparison serves both. */
type Groups = number[];
interface Network {
  groups: Groups;
  bits: number;
}
/** Who may speak for the client: checked once, at creation. */
export type ProxyTrust = { hops: number } | { networks: Network[] } | undefined;

/** Checks the `trustProxy` option. */
export function proxyTrustOption(value: TrustProxy | undefined): ProxyTrust {
  if (value === undefined || value === false) return undefined;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > 20) invalid('trustProxy', 'a hop count must be an integer from 1 to 20');
    return { hops: value };
  }
  if (!Array.isArray(value) || value.length === 0) invalid('trustProxy', 'must be false, a hop count, or a list of addresses and CIDR ranges');
  return {
    networks: value.map((item: unknown) => {
      const network = typeof item === 'string' ? parseNetwork(item) : undefined;
      if (!network) return invalid('trustProxy', `${JSON.stringify(item)} is not an address or CIDR range`);
      return network;
    }),
  };
}

/**
 * The client's address: the peer's, unless the site trusts the proxy it is; then, walking
 * `X-Forwarded-For` from the right (the entries the site's own proxies appended), the
 * first address that is not a trusted proxy. Entries to the left of it are the client's
 * own writing and are never read. Undefined when the platform gave no peer address.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trust: ProxyTrust): Groups | undefined {
  const start = peer === undefined ? undefined : parseAddress(peer);
  if (!start || !trust || forwardedFor === null) return start;
  const chain = forwardedFor.split(',').map((entry) => entry.trim());
  let client = start;
  for (let hop = 0; ; hop++) {
    const trusted = 'hops' in trust ? hop < trust.hops : trust.networks.some((network) => contains(network, client));
    const next = chain.pop();
    if (!trusted || next === undefined) return client;
    const parsed = parseAddress(next);
    // Only a client writes garbage here: keep the last address a proxy vouched for.
    if (!parsed) return client;
    client = parsed;
  }
}

/**
 * The rate limits' key for an address: IPv4 as it is (IPv4-mapped IPv6 too, as a dual-stack
 * server reports it), IPv6 by its /64, the smallest block a site is given, so one
 * client cannot mint 2^64 keys from its own network.
 */
export function addressKey(groups: Groups): string {
  if (isMappedV4(groups)) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/** An address as a peer or a proxy writes it: IPv4, IPv6 (bracketed, with a zone or a port), `a.b.c.d:port`. */
function parseAddress(text: string): Groups | undefined {
  let bare = text.replace(/^\[([^\]]*)\](:\d+)?$/, '$1').replace(/%.*$/, '');
  if (/^[\d.]+:\d+$/.test(bare)) bare = bare.slice(0, bare.lastIndexOf(':'));
  const family = isIP(bare);
  if (family === 4) {
    const v4 = parseV4(bare);
    return [0, 0, 0, 0, 0, 0xffff, v4 >>> 16, v4 & 0xffff];
  }
  return family === 6 ? parseV6(bare) : undefined;
}

function parseNetwork(text: string): Network | undefined {
  const [address, prefix, ...rest] = text.split('/');
  const groups = address === undefined || rest.length > 0 ? undefined : parseAddress(address);
  if (!groups) return undefined;
  const v4 = isIP(address!.replace(/^\[|\]$/g, '')) === 4;
  const max = v4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) return undefined;
  return { groups, bits: v4 ? bits + 96 : bits };
}

function contains({ groups, bits }: Network, address: Groups): boolean {
  for (let i = 0; i < 8; i++) {
    const take = Math.max(0, Math.min(16, bits - i * 16));
    const mask = take === 0 ? 0 : (0xffff << (16 - take)) & 0xffff;
    if ((groups[i]! & mask) !== (address[i]! & mask)) return false;
  }
  return true;
}

function isMappedV4(groups: Groups): boolean {
  return groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
}

/**
 * The rate limits' default key: the client's address by `trust`, IPv6 by its /64, or
 * undefined when the handler was given no peer address (a mount that passes none). Then
 * the request is not limited per client, rather than every client sharing one allowance
 * that one of them could spend for all; `onUnknown` hears of it once, so the site learns
 * why, and passes the address.
 */
export function clientKeyFor(
  trust: ProxyTrust,
  onUnknown: () => void,
): (request: Request, info: { clientAddress?: string }) => string | undefined {
  let warned = false;
  return (request, info) => {
    const address = clientAddress(info.clientAddress, request.headers.get('x-forwarded-for'), trust);
    if (address) return addressKey(address);
    if (!warned) {
      warned = true;
      onUnknown();
    }
    return undefined;
  };
}
