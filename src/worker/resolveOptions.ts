import { TidingsError } from '../shared/TidingsError.js';
import { fromP256Key } from '../shared/base64url.js';
import type { NotificationSpec, PushWorkerOptions } from './types.js';
import { toUrl } from './toUrl.js';

declare const self: ServiceWorkerGlobalScope;

/** The options with their defaults filled in and URLs made absolute. */
export interface ResolvedOptions {
  /** Absolute, without a trailing slash. */
  backend?: string;
  vapidPublicKey?: string;
  defaultNotification: NotificationSpec;
  /** This worker's origin first, then `allowedOrigins`. */
  origins: string[];
  foreground: 'notify' | 'message' | 'both';
  ignoreForeign: boolean;
  cacheName: string;
  /** Every cache a push may name: `cacheName` and `cache.names`. */
  cacheNames: string[];
  maxEntries: number;
  /** Off without a backend: events would have nowhere to go. */
  analytics: false | { batchSize: number; maxQueue: number };
  timeout: number;
}

/** Throws TidingsError 'invalid-option' naming `option` unless `ok`. */
export function check(ok: unknown, option: string): void {
  if (!ok) throw new TidingsError('invalid-option', { option });
}

/** Validates the options once, at creation; throws TidingsError 'invalid-option' naming the first bad one. */
export function resolveOptions(options: PushWorkerOptions = {}): ResolvedOptions {
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  const count = (value: unknown = 1) => Number.isInteger(value) && (value as number) > 0;
  check(isObject(options), 'options');
  const { backend, vapidPublicKey, defaultNotification, allowedOrigins = [], foreground = 'both' } = options;
  const { ignoreForeign = false, cache = {}, analytics = true, timeout = 10_000 } = options;
  const here = self.location;

  check(backend === undefined || (typeof backend === 'string' && toUrl(backend)), 'backend');
  check(vapidPublicKey === undefined || fromP256Key(vapidPublicKey), 'vapidPublicKey');
  check(
    defaultNotification === undefined || (isObject(defaultNotification) && typeof defaultNotification.title === 'string'),
    'defaultNotification',
  );
  check(Array.isArray(allowedOrigins), 'allowedOrigins');
  const origins = [here.origin];
  for (const origin of allowedOrigins) {
    const url = typeof origin === 'string' && /^https?:\/\//i.test(origin) && toUrl(origin);
    check(url, 'allowedOrigins');
    origins.push((url as URL).origin);
  }
  check(['notify', 'message', 'both'].includes(foreground), 'foreground');
  check(typeof ignoreForeign === 'boolean', 'ignoreForeign');
  check(isObject(cache) && (cache.name === undefined || (typeof cache.name === 'string' && cache.name)), 'cache.name');
  check(count(cache.maxEntries), 'cache.maxEntries');
  const { name = 'tidings', names = [] } = cache;
  check(Array.isArray(names) && names.every((n) => typeof n === 'string' && n), 'cache.names');
  check(typeof analytics === 'boolean' || isObject(analytics), 'analytics');
  const { batchSize = 20, maxQueue = 1000 } = typeof analytics === 'object' ? analytics : {};
  check(count(batchSize), 'analytics.batchSize');
  check(count(maxQueue), 'analytics.maxQueue');
  check(typeof timeout === 'number' && timeout > 0 && timeout < 2 ** 31, 'timeout');

  return {
    backend: backend === undefined ? undefined : toUrl(backend)!.href.replace(/\/+$/, ''),
    vapidPublicKey,
    defaultNotification: defaultNotification ?? { title: here.hostname || 'New notification', body: 'New notification' },
    origins,
    foreground,
    ignoreForeign,
    cacheName: name,
    cacheNames: [name, ...names],
    maxEntries: cache.maxEntries ?? 50,
    analytics: analytics !== false && backend !== undefined && { batchSize, maxQueue },
    timeout,
  };
}
