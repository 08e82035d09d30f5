import { isIP } from 'node:net';
import { addressKind, type AddressKind } from './addressKind.js';
import { requestLimits } from '../common/requestLimits.js';
import { fail } from '../common/invalidRequest.js';

/** Where sends may go: which push services, and whether loopback ones (local push services) count. */
export interface EndpointPolicy {
  /**
   * Hosts an endpoint may name, `https:` on 443: exact names, `*.` for any subdomain of
   * one, `host:port` for another port. `'any'`: every public host on 443, each send then
   * checked against the address actually connected to.
   */
  pushServices: readonly string[] | 'any';
  /** Loopback endpoints (http or https, any port), as the local push service hands out. */
  allowLoopbackEndpoints: boolean;
}

/** The push services browsers subscribe with: Chrome/Edge-on-FCM, Firefox, Safari, Edge on Windows. */
export const DEFAULT_PUSH_SERVICES: readonly string[] = [
  'fcm.googleapis.com',
  'updates.push.services.mozilla.com',
  '*.push.apple.com',
  '*.notify.windows.com',
];

/**
 * Push services whose endpoints never carry a query: there, `?anything` is the same
 * subscription re-spelled (the service ignores it), so it is refused rather than stored as
 * a second row. Windows (WNS) keeps its token in the query, UnifiedPush servers use
 * `?up=1`: on every other host the query is part of the push resource and kept.
 */
const QUERYLESS_PUSH_SERVICES = ['fcm.googleapis.com', 'updates.push.services.mozilla.com', '*.push.apple.com'];

/**
 * Names that resolve only inside a network (RFC 6762 .local, RFC 8375 home.arpa, and
 * the usual private suffixes): a push service is never there.
 */
const LOCAL_SUFFIXES = ['local', 'internal', 'intranet', 'corp', 'lan', 'home', 'home.arpa', 'localdomain', 'private'];

/**
 * Checks a subscription endpoint against the policy and returns its normalised href,
 * or throws TidingsError `invalid-request` `{field, reason}`. Registration runs it on
 * what browsers send and `send()` again on what the store holds, because anyone may
 * register and every send POSTs to the endpoint: an unchecked one aims the backend at
 * its own network. Hosts are judged after the URL parser has normalised them, so
 * `0x7f.1`, `2130706433` and `[::ffff:127.0.0.1]` are the loopback they spell.
 *
 * One push resource has one spelling, so that a re-spelled endpoint is the same row (and
 * takes nothing over, see registerSubscription): the URL parser's own normalisation
 * (host case, default port, dot segments), percent-escapes of unreserved characters
 * decoded and the others upper-cased (`%76` is `v`, RFC 3986 §6.2.2), and an empty `?`
 * dropped. Spellings no push service hands out are refused: a fragment (`#…`, never sent
 * to the service), an empty path segment (`//`), and a query on the services that use none.
 */
export function checkEndpoint(value: unknown, policy: EndpointPolicy, field = 'subscription.endpoint'): string {
  return checkEndpointUrl(value, policy, field).href;
}

/** checkEndpoint, answering the parsed URL (a sender needs its parts, and parses once). */
export function checkEndpointUrl(value: unknown, policy: EndpointPolicy, field = 'subscription.endpoint'): URL {
  if (typeof value !== 'string') fail(field, 'not-string');
  // A cheap bound before parsing; the one that counts is on the normalised href below,
  // since percent-encoding can make the stored URL nine times longer than what was sent.
  if (value.length > requestLimits.endpoint) fail(field, 'too-long');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(field, 'not-url');
  }
  if (url.href.length > requestLimits.endpoint) fail(field, 'too-long');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(field, 'scheme');
  if (url.username || url.password) fail(field, 'credentials');
  if (url.href.includes('#')) fail(field, 'fragment');
  if (url.pathname.includes('//')) fail(field, 'empty-path-segment');
  // Only a part with an escape in it can change, and a URL's setters parse it again: a send
  // checks every endpoint once a push, and most have none.
  if (url.pathname.includes('%')) url.pathname = normalEscapes(url.pathname);
  // An empty query reads as '': assigning it drops a lone `?`.
  if (url.search.includes('%') || url.href.endsWith('?')) url.search = normalEscapes(url.search);
  if (url.search && matchesHost(url.hostname, QUERYLESS_PUSH_SERVICES)) fail(field, 'query');
  const kind = hostKind(url.hostname);
  if (kind === 'loopback' && isCanonicalLoopback(url.hostname)) {
    if (!policy.allowLoopbackEndpoints) fail(field, 'loopback');
    return url;
  }
  if (kind !== 'name' && kind !== 'public') fail(field, kind === 'loopback' ? 'loopback' : `${kind}-address`);
  if (url.protocol !== 'https:') fail(field, 'not-https');
  if (!isPushService(url, policy.pushServices)) fail(field, 'not-push-service');
  return url;
}

/** Percent-escapes as RFC 3986 §6.2.2 normalises them: unreserved characters decoded, the rest in upper case. */
function normalEscapes(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

function matchesHost(hostname: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => (pattern.startsWith('*.') ? hostname.endsWith(pattern.slice(1)) : hostname === pattern));
}

/** True when `url` (https) is on a host the list names, on the port it names (443 unless given). */
function isPushService(url: URL, pushServices: EndpointPolicy['pushServices']): boolean {
  const port = url.port || '443';
  if (pushServices === 'any') return port === '443';
  return pushServices.some((entry) => {
    const colon = entry.lastIndexOf(':');
    const [pattern, entryPort] = colon > 0 && !entry.endsWith(']') ? [entry.slice(0, colon), entry.slice(colon + 1)] : [entry, '443'];
    if (entryPort !== port) return false;
    return pattern.startsWith('*.') ? url.hostname.endsWith(pattern.slice(1)) : url.hostname === pattern;
  });
}

/**
 * What a URL's hostname reaches: an address kind for IP literals and for names that
 * can only be local, `name` for a name DNS decides (checked again at connect time).
 */
function hostKind(hostname: string): AddressKind | 'name' {
  if (hostname.startsWith('[') || isIP(hostname) === 4) return addressKind(hostname);
  // A trailing dot is the same name to DNS (`localhost.`).
  const name = hostname.replace(/\.+$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback'; // RFC 6761
  if (!name.includes('.')) return 'private'; // a single label resolves through the search domains
  if (LOCAL_SUFFIXES.some((suffix) => name.endsWith(`.${suffix}`))) return 'private';
  return 'name';
}

/**
 * The loopback spellings a local push service hands out; the others (`localhost.`,
 * `foo.localhost`, mapped and compatible IPv6) have no use but to slip past a check.
 */
function isCanonicalLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || (isIP(hostname) === 4 && hostname.startsWith('127.'));
}
