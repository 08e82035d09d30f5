import dns, { type LookupAddress } from 'node:dns';
import { createBoundedMap } from '../common/createBoundedMap.js';

/** Names whose answers are kept at most. */
const MAX_NAMES = 4096;
/** How long an answer is reused, ms: dns.lookup tells no TTL, and push services' are minutes. */
const ANSWER_TTL = 30_000;
/** How long a name that does not exist (NXDOMAIN, no address) stays refused, ms. */
const NOT_FOUND_TTL = 30_000;
/** How long any other failure (a resolver timing out, SERVFAIL) stays cached, ms. */
const FAILURE_TTL = 5_000;

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/** A lookup's error, as node:dns gives it. */
export type LookupError = NodeJS.ErrnoException;

/** Answers of dns.lookup, kept a short while: one lookup per name, not one per push. */
export interface DnsCache {
  /** The cached answer while fresh: the addresses, or the error the lookup failed with; undefined when the name must be looked up. */
  peek(hostname: string): LookupAddress[] | LookupError | undefined;
  /** Every address of `hostname`; concurrent calls for one name share one lookup. Rejects with the lookup's error. */
  resolve(hostname: string): Promise<LookupAddress[]>;
}

/** True for a lookup error that says the name has no address (as opposed to a resolver that failed). */
export function isNotFound(error: LookupError): boolean {
  return error.code !== undefined && NOT_FOUND.has(error.code);
}

/**
 * A DNS cache for the sender, failures included: junk endpoints under a push service's
 * domain (`<random>.push.apple.com`) are names that do not exist, and each one looked up
 * again on every attempt of every send cost 6,000 lookups for 2,000 names. Bounded, since
 * names are chosen by whoever registers. The lookup is read from node:dns at call time
 * (not a bound copy), so /etc/hosts counts and tests can stand a resolver in.
 */
export function createDnsCache(now: () => number = Date.now): DnsCache {
  const answers = createBoundedMap<string, { addresses?: LookupAddress[]; error?: LookupError; until: number }>(MAX_NAMES);
  const pending = new Map<string, Promise<LookupAddress[]>>();

  const peek = (hostname: string): LookupAddress[] | LookupError | undefined => {
    // Not marked as used: every push reads it, and the TTL renews it anyway.
    const answer = answers.peek(hostname);
    if (!answer) return undefined;
    if (answer.until <= now()) {
      answers.delete(hostname);
      return undefined;
    }
    return answer.addresses ?? answer.error;
  };

  return {
    peek,
    resolve(hostname) {
      const cached = peek(hostname);
      if (Array.isArray(cached)) return Promise.resolve(cached);
      if (cached) return Promise.reject(cached);
      let lookup = pending.get(hostname);
      if (!lookup) {
        lookup = new Promise<LookupAddress[]>((resolve, reject) => {
          dns.lookup(hostname, { all: true }, (error, addresses) => {
            pending.delete(hostname);
            if (error) {
              answers.set(hostname, { error, until: now() + (isNotFound(error) ? NOT_FOUND_TTL : FAILURE_TTL) });
              return reject(error);
            }
            answers.set(hostname, { addresses, until: now() + ANSWER_TTL });
            resolve(addresses);
          });
        });
        pending.set(hostname, lookup);
      }
      return lookup;
    },
  };
}
