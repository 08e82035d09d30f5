export interface RateLimit {
  /** Units (events, registrations) a client may spend in one window. */
  limit: number;
  /** The window, in ms: the allowance refills evenly over it. */
  windowMs: number;
}

export interface RateLimiter {
  /** Spends `units` of `key`'s allowance: 0 when allowed, else the ms to wait before it would be. */
  take(key: string, units: number): number;
}

/** Clients tracked at most, so a flood of keys cannot grow memory (about 100 bytes each). */
const MAX_CLIENTS = 50_000;
/** Where clients past MAX_CLIENTS spend, together, while every tracked one is still spending. */
const OVERFLOW = '\u0000overflow';

/**
 * A token bucket per client key, in memory: each key holds up to `limit` units and
 * regains them at `limit / windowMs` per ms. One process's view only: a site with
 * several web servers gets a per-server limit, which still bounds each one.
 *
 * Memory is bounded without letting a client reset its own bucket: past MAX_CLIENTS the
 * least recently seen key is forgotten only once its bucket is full again (forgetting it
 * loses nothing). While none is, new keys share one overflow bucket, so minting keys
 * faster than buckets refill (an IPv6 /48 holds 65,536 /64s) buys no more than one key's
 * allowance; the clients already tracked keep theirs.
 */
export function createRateLimiter({ limit, windowMs }: RateLimit, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const rate = limit / windowMs;
  const refilled = (bucket: { tokens: number; at: number }, time: number) => bucket.tokens + (time - bucket.at) * rate >= limit;
  return {
    take(wanted, units) {
      const time = now();
      let key = wanted;
      if (!buckets.has(key) && buckets.size >= MAX_CLIENTS) {
        const [oldestKey, oldest] = buckets.entries().next().value!;
        if (refilled(oldest, time)) buckets.delete(oldestKey);
        else key = OVERFLOW;
      }
      const bucket = buckets.get(key) ?? { tokens: limit, at: time };
      buckets.delete(key);
      bucket.tokens = Math.min(limit, bucket.tokens + (time - bucket.at) * rate);
      bucket.at = time;
      buckets.set(key, bucket);
      if (units <= bucket.tokens) {
        bucket.tokens -= units;
        return 0;
      }
      // More than a full bucket can never pass: say when the bucket will be full.
      return Math.ceil((Math.min(units, limit) - bucket.tokens) / rate);
    },
  };
}
