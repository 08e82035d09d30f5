/**
 * The URL to link to, or undefined when `url` must be shown as text only: anything but
 * http(s) (`javascript:`, `data:`…), and http(s) on an origin that is neither the
 * dashboard's own nor one the site listed (`linkOrigins`). Relative URLs are the site's.
 */
export function safeLink(url: string, linkOrigins: readonly string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, location.origin);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  if (parsed.origin !== location.origin && !linkOrigins.includes(parsed.origin)) return undefined;
  return parsed.href;
}

/** A URL the preview may load as an image: this origin's only (the CSP allows nothing else). */
export function sameOriginImage(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const link = safeLink(url, []);
  return link && new URL(link).origin === location.origin ? link : undefined;
}
