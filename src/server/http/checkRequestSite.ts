/**
 * Why a state-changing request must be refused as cross-site, or undefined when it
 * may go on. Browsers send `Sec-Fetch-Site` (all current engines) and `Origin` on
 * POST and DELETE, so a form or fetch from another site is recognisable: once a site
 * identifies visitors by cookie, such a request would act in the visitor's name.
 * `Origin` is compared by host, not scheme, so a server behind a TLS-terminating proxy
 * (which sees http://) still accepts its own pages; and with the request URL's host or
 * the `Host` header, since some frameworks (Next.js) put their own hostname in the URL.
 * A page on another site cannot set `Host`: the browser writes the target's.
 */
export function checkRequestSite(request: Request, url: URL, allowedOrigins: readonly string[]): string | undefined {
  const origin = request.headers.get('origin');
  if (origin !== null && allowedOrigins.includes(origin)) return undefined;
  if (request.headers.get('sec-fetch-site') === 'cross-site') return 'cross-site';
  if (origin === null) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    // `Origin: null` (sandboxed frames, data: URLs) and garbage name no site of ours.
    return 'origin';
  }
  return host === url.host || host === request.headers.get('host') ? undefined : 'origin';
}
