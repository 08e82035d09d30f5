import type { ResolvedOptions } from './resolveOptions.js';
// toUrl has its own file: resolveOptions needs it, and importing it from here made a cycle.
import { toUrl } from './toUrl.js';

/**
 * The absolute URL for `raw` when tidings may open or fetch it: http(s) only (so never
 * javascript:, data:, blob: or file:), on this origin or an allowed one. Else undefined.
 */
export function allowedUrl(options: ResolvedOptions, raw: string): string | undefined {
  const url = toUrl(raw);
  return url && /^https?:$/.test(url.protocol) && options.origins.includes(url.origin) ? url.href : undefined;
}
