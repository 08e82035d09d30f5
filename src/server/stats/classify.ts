/** Push services figures are grouped by. */
export type PushServiceName = 'fcm' | 'mozilla' | 'apple' | 'windows' | 'other';

/** Browser families figures are grouped by; `unknown` when the registration carried no User-Agent. */
export type BrowserFamily = 'chrome' | 'edge' | 'firefox' | 'safari' | 'opera' | 'samsung' | 'other' | 'unknown';

/**
 * The push service of an endpoint, from its host: Google's FCM (Chrome, Edge on Android,
 * Opera, Samsung Internet…), Mozilla's autopush, Apple's (Safari), Windows' WNS (Edge on
 * Windows, older). Anything else, a local push service included, is `other`.
 */
export function pushServiceOf(endpoint: string): PushServiceName {
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return 'other';
  }
  const under = (domain: string) => host === domain || host.endsWith(`.${domain}`);
  if (under('googleapis.com')) return 'fcm';
  if (under('push.services.mozilla.com')) return 'mozilla';
  if (under('push.apple.com')) return 'apple';
  if (under('notify.windows.com')) return 'windows';
  return 'other';
}

/** The endpoint's host (with its port when it has one), or '' when it is not a URL. */
export function endpointHost(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return '';
  }
}

/**
 * A browser family from a User-Agent, read once at registration and kept with the
 * subscription. Forks name themselves before the engine they carry ("… Chrome/… Edg/…"),
 * so they are looked for first. A User-Agent is the browser's word and may lie: the
 * family groups figures, it proves nothing.
 */
export function browserFamilyOf(userAgent: string | null | undefined): BrowserFamily {
  if (!userAgent) return 'unknown';
  if (/SamsungBrowser\//.test(userAgent)) return 'samsung';
  if (/\bEdg(e|A|iOS)?\//.test(userAgent)) return 'edge';
  if (/\bOPR\/|\bOpera\b/.test(userAgent)) return 'opera';
  if (/\bFirefox\/|\bFxiOS\//.test(userAgent)) return 'firefox';
  if (/\bChrome\/|\bCriOS\/|\bChromium\//.test(userAgent)) return 'chrome';
  if (/\bSafari\//.test(userAgent) && /\bVersion\//.test(userAgent)) return 'safari';
  return 'other';
}
