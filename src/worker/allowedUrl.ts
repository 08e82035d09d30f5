import type { ResolvedOptions } from './resolveOptions.js';

declare const self: ServiceWorkerGlobalScope;

/** Parses `raw` against the worker's URL; undefined where it is not a URL. (URL.canParse is missing in Safari 16.) */
export function toUrl(raw: string, base = self.location.href): URL | undefined {
  try {
    return new URL(raw, base);
  } catch {
    return undefined;
  }
}

/**
 * The absolute URL for `raw` when tidings may open or fetch it: http(s) only (so never
 * javascript:, data:, blob: or file:), on this origin or an allowed one. Else undefined.
 */
export function allowedUrl(options: ResolvedOptions, raw: string): string | undefined {
  const url = toUrl(raw);
  return url && /^https?:$/.test(url.protocol) && options.origins.includes(url.origin) ? url.href : undefined;
}
