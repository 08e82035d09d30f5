declare const self: ServiceWorkerGlobalScope;

type BadgeNavigator = { setAppBadge?(count?: number): Promise<void>; clearAppBadge?(): Promise<void> };

/**
 * Sets the app badge to `count`, or clears it for 0, where the browser has the Badging
 * API (Chromium, Safari); elsewhere (Firefox) it does nothing. Looked up at each call, so
 * a badge a site or test wraps is the one used.
 */
export async function setAppBadge(count: number): Promise<void> {
  const nav = self.navigator as BadgeNavigator;
  await (count ? nav.setAppBadge?.(count) : nav.clearAppBadge?.());
}
