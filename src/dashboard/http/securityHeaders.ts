/**
 * The dashboard's Content Security Policy: its own script, style and data only, no inline
 * code, never framed, and Trusted Types with no policy, so any HTML sink (`innerHTML` and
 * the like) throws in browsers that enforce them: text from strangers cannot become markup
 * even through a bug in the pages.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** How long a response may be kept: hashed assets for a year (in the viewer's cache only), everything else never. */
export type Caching = 'immutable' | 'no-store';

/**
 * Adds the headers every dashboard response carries. Assets are `private`: they sit
 * behind `authorize` like the rest, so no shared cache may hand them to a stranger.
 */
export function secure(response: Response, caching: Caching = 'no-store'): Response {
  const headers = response.headers;
  headers.set('content-security-policy', CSP);
  headers.set('x-content-type-options', 'nosniff');
  headers.set('x-frame-options', 'DENY');
  headers.set('referrer-policy', 'no-referrer');
  headers.set('cross-origin-opener-policy', 'same-origin');
  headers.set('cross-origin-resource-policy', 'same-origin');
  headers.set('cache-control', caching === 'immutable' ? 'private, max-age=31536000, immutable' : 'no-store');
  // The answer depends on who asks: never reuse it for another cookie or credential.
  headers.append('vary', 'cookie, authorization');
  return response;
}
