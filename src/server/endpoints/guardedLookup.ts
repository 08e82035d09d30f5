import dns, { type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { TidingsError } from '../../shared/TidingsError.js';
import { addressKind, type AddressKind } from './addressKind.js';
import type { DnsCache, LookupError } from './createDnsCache.js';

/**
 * Refuses an address a push must never reach: anything but a public one, or loopback
 * when the site runs a local push service. Throws TidingsError `send-failed` with
 * `reason: 'address'` and the address's `kind`.
 */
export function checkAddress(address: string, allowLoopback: boolean): void {
  const kind: AddressKind = addressKind(address);
  if (kind === 'public' || (kind === 'loopback' && allowLoopback)) return;
  throw new TidingsError('send-failed', { reason: 'address', kind });
}

/** Checks every address of a name (throws as checkAddress does; `kind: 'none'` for no address at all). */
export function checkAddresses(addresses: readonly LookupAddress[], allowLoopback: boolean): void {
  if (addresses.length === 0) throw new TidingsError('send-failed', { reason: 'address', kind: 'none' });
  for (const { address } of addresses) checkAddress(address, allowLoopback);
}

/** A failed lookup as the sender reports it: TidingsError `send-failed`, `reason: 'dns'`, the resolver's `code`. */
export function lookupFailed(error: LookupError, hostname: string): TidingsError {
  return new TidingsError('send-failed', { reason: 'dns', code: error.code ?? 'unknown', hostname, cause: error });
}

/**
 * A `lookup` for node:net and node:tls that resolves as usual (`dns.lookup`, so /etc/hosts
 * counts; through `cache` when given) and then checks every address, before any
 * connection is made. Checking here, not on the name at registration, is what defeats
 * DNS rebinding: the name may resolve to a public address when registered and to
 * 127.0.0.1 when sent to. One bad address fails the whole name, so a mixed answer cannot
 * win a race to the bad one. Failures are TidingsErrors: `reason: 'address'` or `'dns'`.
 */
export function guardedLookup(allowLoopback: boolean, cache?: DnsCache): LookupFunction {
  return (hostname, options, callback) => {
    const answered = (error: LookupError | null, addresses: LookupAddress[]) => {
      if (error) return callback(lookupFailed(error, hostname) as unknown as NodeJS.ErrnoException, '');
      try {
        checkAddresses(addresses, allowLoopback);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '');
      }
      const family = options.family === 4 || options.family === 6 ? options.family : 0;
      const usable = family ? addresses.filter((entry) => entry.family === family) : addresses;
      if (usable.length === 0) return callback(new TidingsError('send-failed', { reason: 'address', kind: 'none' }) as unknown as NodeJS.ErrnoException, '');
      if (options.all) return callback(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    };
    if (cache) cache.resolve(hostname).then((addresses) => answered(null, addresses), (error: LookupError) => answered(error, []));
    // Read dns.lookup at call time (not a bound copy), so tests can stand a resolver in.
    else dns.lookup(hostname, { all: true }, answered);
  };
}
