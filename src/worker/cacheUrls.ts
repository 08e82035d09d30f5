import type { Envelope, EnvelopeCache } from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';
import { allowedUrl } from './allowedUrl.js';
import type { WorkerContext } from './WorkerContext.js';

/**
 * The cache handler: fetches each allowed URL and puts it in Cache Storage, then keeps
 * at most `maxEntries` there, oldest out (Cache Storage lists keys in insertion order).
 * A refused or failed URL is reported as a `failed` event ('url-refused', 'cache'), never thrown.
 * A push may name only a cache the worker was configured with (`cache.name`,
 * `cache.names`), else the default is used: never the site's other caches, such as a
 * Workbox precache the trimming would empty, and no new caches at a push's word.
 */
export async function cacheUrls(w: WorkerContext, envelope: Envelope): Promise<void> {
  const { cacheName: own, cacheNames } = w.options;
  const { urls, cacheName: asked = own } = envelope.cache as EnvelopeCache;
  const cacheName = cacheNames.includes(asked) ? asked : own;
  const cache = await caches.open(cacheName);
  await Promise.all(
    urls.map(async (raw) => {
      const url = allowedUrl(w.options, raw);
      if (!url) return w.fail('url-refused', envelope.id);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(w.options.timeout) });
        if (!response.ok) throw response.status;
        // Deleted first so a refreshed URL counts as the newest entry.
        await cache.delete(url);
        await cache.put(url, response);
      } catch (cause) {
        await w.fail(new TidingsError('fetch-failed', { reason: 'cache', cause }), envelope.id);
      }
    }),
  );
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - w.options.maxEntries)).map((key) => cache.delete(key)));
}
