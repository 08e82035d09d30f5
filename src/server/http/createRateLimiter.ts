export interface RateLimit {
  /** Units (events) a client may spend in one window. */
  limit: number;
  /** The window, in ms: the allowance refills evenly over it. */
  windowMs: number;
}

export interface RateLimiter {
  /** Spends `units` of `key`'s allowance: 0 when allowed, else the ms to wait before it would be. */
  take(key: string, units: number): number;
}

/** Clients tracked at most; past it the least recently seen is forgotten (a flood of keys cannot grow memory). */
const MAX_CLIENTS = 10_000;

/**
 * A token bucket per client key, in memory: each key holds up to `limit` units and
 * regains them at `limit / windowMs` per ms. One process's view only: a site with
 * several web servers gets a per-server limit, which still bounds each one.
 */
export function createRateLimiter({ limit, windowMs }: RateLimit, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const rate = limit / windowMs;
  return {
    take(key, units) {
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: limit, at: time };
      buckets.delete(key);
      bucket.tokens = Math.min(limit, bucket.tokens + (time - bucket.at) * rate);
      bucket.at = time;
      buckets.set(key, bucket);
      if (buckets.size > MAX_CLIENTS) buckets.delete(buckets.keys().next().value as string);
      if (units <= bucket.tokens) {
        bucket.tokens -= units;
        return 0;
      }
      // More than a full bucket can never pass: say when the bucket will be full.
      return Math.ceil((Math.min(units, limit) - bucket.tokens) / rate);
    },
  };
}
