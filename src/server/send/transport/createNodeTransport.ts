import { createSecureContext, rootCertificates } from 'node:tls';
import { isIP } from 'node:net';
import { createDnsCache, type LookupError } from '../../endpoints/createDnsCache.js';
import { checkAddress, checkAddresses, guardedLookup, lookupFailed } from '../../endpoints/guardedLookup.js';
import { createHttp1Client } from './createHttp1Client.js';
import type { PushRequest, Transport } from './Transport.js';
import { transportFailure } from './transportFailure.js';

export interface NodeTransportOptions {
  /** Loopback addresses may be reached (a local push service). */
  allowLoopback: boolean;
  /** Certificate authorities (PEM) trusted beside Node's own. */
  ca?: readonly string[];
  /** ms a connection may stay idle before it is closed. */
  idleTimeout: number;
}

/** Idle HTTP/1.1 connections kept at most, every push service together. */
const MAX_IDLE_SOCKETS = 256;

/**
 * send()'s transport on Node: node:http(s) with kept-alive connections, and one DNS cache
 * behind a `lookup` that checks every address before connecting (guardedLookup), so
 * DNS rebinding cannot aim a push at the backend's own network.
 */
export function createNodeTransport({ allowLoopback, ca, idleTimeout }: NodeTransportOptions): Transport {
  const dns = createDnsCache();
  const lookup = guardedLookup(allowLoopback, dns);
  // Made once: a `ca` given per connection makes node:tls parse every certificate again each time.
  const secureContext = createSecureContext(ca && ca.length > 0 ? { ca: [...rootCertificates, ...ca] } : {});
  const http1 = createHttp1Client({ lookup, secureContext, idleTimeout, maxIdle: MAX_IDLE_SOCKETS });

  /** The host of a URL without IPv6 brackets, and whether it is an IP literal (which node:net does not look up). */
  const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

  return {
    post(request: PushRequest) {
      const host = hostOf(request.url);
      try {
        // node:net skips `lookup` for an IP literal, so that address is checked here.
        if (isIP(host)) checkAddress(host, allowLoopback);
      } catch (refused) {
        return Promise.reject(refused);
      }
      return http1.post(request);
    },
    reach(url, timeout) {
      const host = hostOf(url);
      if (isIP(host)) return checkAddress(host, allowLoopback);
      const known = dns.peek(host);
      if (Array.isArray(known)) return checkAddresses(known, allowLoopback);
      if (known) throw lookupFailed(known, host);
      return new Promise<void>((resolve, reject) => {
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
      return http1.alive(origin, timeout);
    },
    close() {
      http1.close();
    },
  };
}
