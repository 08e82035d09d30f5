import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { TidingsError } from '../../shared/TidingsError.js';
import { addressKind, type AddressKind } from './addressKind.js';

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

/**
 * A `lookup` for node:net that resolves as usual (`dns.lookup`, so /etc/hosts counts)
 * and then checks every address, before any connection is made. Checking here, not on
 * the name at registration, is what defeats DNS rebinding: the name may resolve to a
 * public address when registered and to 127.0.0.1 when sent to. One bad address fails
 * the whole name, so a mixed answer cannot win a race to the bad one.
 */
export function guardedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    // Read dns.lookup at call time (not a bound copy), so tests can stand a resolver in.
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      try {
        if (addresses.length === 0) throw new TidingsError('send-failed', { reason: 'address', kind: 'none' });
        for (const { address } of addresses) checkAddress(address, allowLoopback);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '');
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      callback(null, first!.address, first!.family);
    });
  };
}
