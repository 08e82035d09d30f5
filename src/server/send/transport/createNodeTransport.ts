import { createSecureContext, rootCertificates } from 'node:tls';
import { isIP } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { createDnsCache, type LookupError } from '../../endpoints/createDnsCache.js';
import { checkAddress, checkAddresses, guardedLookup, lookupFailed } from '../../endpoints/guardedLookup.js';
import { createBoundedMap } from '../../common/createBoundedMap.js';
import { createHttp1Client } from './createHttp1Client.js';
import { createHttp2Sessions, type Http2Session } from './createHttp2Sessions.js';
import { postOverHttp2 } from './postOverHttp2.js';
import type { PushRequest, Transport } from './Transport.js';
import { transportFailure } from './transportFailure.js';
import { hostOf } from './hostOf.js';

export interface NodeTransportOptions {
  /** Loopback addresses may be reached (a local push service). */
  allowLoopback: boolean;
  /** Certificate authorities (PEM) trusted beside Node's own. */
  ca?: readonly string[];
  /** ms a connection may stay idle before it is closed. */
  idleTimeout: number;
  /** HTTP/2 with push services that offer it (ALPN `h2`); otherwise HTTP/1.1 only. */
  http2: boolean;
}

/** Idle HTTP/1.1 connections kept at most, every push service together. */
const MAX_IDLE_SOCKETS = 256;
/** HTTP/2 sessions kept at most (one per push-service origin). */
const MAX_SESSIONS = 256;
/** https origins remembered as speaking HTTP/1.1 only. */
const MAX_HTTP1_ORIGINS = 1024;

/**
 * send()'s transport on Node. To an https push service that offers HTTP/2 (ALPN), one
 * session per origin carries every push at once as its own stream (node:http2); to the
 * others, HTTP/1.1 with kept-alive connections. Both connect through one DNS cache behind
 * a `lookup` that checks every address before connecting (guardedLookup), so DNS
 * rebinding cannot aim a push at the backend's own network, and both keep the same rules:
 * no redirect, at most ANSWER_BYTES read, one clock per push.
 */
export function createNodeTransport({ allowLoopback, ca, idleTimeout, http2 }: NodeTransportOptions): Transport {
  const dns = createDnsCache();
  const lookup = guardedLookup(allowLoopback, dns);
  // Made once: a `ca` given per connection makes node:tls parse every certificate again each time.
  const secureContext = createSecureContext(ca && ca.length > 0 ? { ca: [...rootCertificates, ...ca] } : {});
  const http1 = createHttp1Client({ lookup, secureContext, idleTimeout, maxIdle: MAX_IDLE_SOCKETS });
  const sessions = http2 ? createHttp2Sessions({ lookup, secureContext, idleTimeout, maxSessions: MAX_SESSIONS }) : undefined;
  const http1Only = createBoundedMap<string, true>(MAX_HTTP1_ORIGINS);

  /** The HTTP/2 session for a URL's origin, or undefined for HTTP/1.1 (plain http, no h2 offered, or HTTP/2 off). */
  const sessionFor = (url: URL, timeout: number): Http2Session | Promise<Http2Session | undefined> | undefined => {
    if (!sessions || url.protocol !== 'https:') return undefined;
    const origin = url.origin;
    if (http1Only.get(origin)) return undefined;
    const found = sessions.get(origin, timeout);
    if (!(found instanceof Promise)) return found;
    return found.then((session) => {
      if (session !== 'http/1.1') return session;
      http1Only.set(origin, true);
      return undefined;
    });
  };

  const verdicts = new WeakMap<LookupAddress[], Error | null>();
  // IP literals (node:net does not look them up): checked once each, not once per push.
  const literals = createBoundedMap<string, Error | null>(1024);
  /** Throws when `host` is an IP literal sends must not reach; false for a name. */
  const checkLiteral = (host: string): boolean => {
    let verdict = literals.peek(host);
    if (verdict === undefined) {
      if (!isIP(host)) return false;
      try {
        checkAddress(host, allowLoopback);
        verdict = null;
      } catch (refused) {
        verdict = refused as Error;
      }
      literals.set(host, verdict);
    }
    if (verdict) throw verdict;
    return true;
  };
  const resolving = (host: string, timeout: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(transportFailure('timeout')), timeout);
      dns.resolve(host).then(
        (addresses) => {
          clearTimeout(timer);
          try {
            checkAddresses(addresses, allowLoopback);
            resolve();
          } catch (refused) {
            reject(refused);
          }
        },
        (error: LookupError) => {
          clearTimeout(timer);
          reject(lookupFailed(error, host));
        },
      );
    });

  return {
    post(request: PushRequest) {
      try {
        // node:net skips `lookup` for an IP literal, so that address is checked here.
        checkLiteral(hostOf(request.url));
      } catch (refused) {
        return Promise.reject(refused);
      }
      const started = Date.now();
      const session = sessionFor(request.url, request.timeout);
      if (session === undefined) return http1.post(request);
      if (!(session instanceof Promise)) return postOverHttp2(session, request);
      // One clock: the time spent connecting counts.
      return session.then((found) =>
        found ? postOverHttp2(found, request, Date.now() - started) : http1.post({ ...request, timeout: Math.max(1, request.timeout - (Date.now() - started)) }),
      );
    },
    reach(url, timeout) {
      const host = hostOf(url);
      if (checkLiteral(host)) return;
      const known = dns.peek(host);
      if (known === undefined) return resolving(host, timeout);
      if (!Array.isArray(known)) throw lookupFailed(known, host);
      // Checked once per answer, not once per push.
      let verdict = verdicts.get(known);
      if (verdict === undefined) {
        try {
          checkAddresses(known, allowLoopback);
          verdict = null;
        } catch (refused) {
          verdict = refused as Error;
        }
        verdicts.set(known, verdict);
      }
      if (verdict) throw verdict;
    },
    alive(origin, timeout) {
      const host = hostOf(new URL(origin));
      if (isIP(host)) {
        try {
          checkAddress(host, allowLoopback);
        } catch {
          return Promise.resolve(false);
        }
      }
      const url = new URL(origin);
      const session = sessionFor(url, timeout);
      if (session === undefined) return http1.alive(origin, timeout);
      return Promise.resolve(session).then(
        (found) => (found ? ping(found, timeout) : http1.alive(origin, timeout)),
        () => false,
      );
    },
    close() {
      http1.close();
      sessions?.close();
    },
  };
}

/** An HTTP/2 PING answered within `timeout`: the push service's end of the session is there. */
function ping({ session }: Http2Session, timeout: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeout);
    try {
      session.ping((error) => {
        clearTimeout(timer);
        resolve(!error);
      });
    } catch {
      clearTimeout(timer);
      resolve(false);
    }
  });
}
