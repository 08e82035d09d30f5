import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's Firefox ESR, driven over WebDriver BiDi (Playwright's BiDi Firefox fails on ESR 153). */
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** Prefs every tidings Firefox test needs besides the push service's own (`firefoxPrefs()`). */
const basePrefs = {
  // Service workers on plain-http loopback origins, as in the tests.
  'dom.serviceWorkers.testing.enabled': true,
  // Without it showNotification fails when headless.
  'alerts.useSystemBackend': false,
  'permissions.default.desktop-notification': 1,
  'dom.push.loglevel': 'Error',
};

/**
 * Launches headless Firefox ESR with `prefs` (from the local push service's
 * `firefoxPrefs()`), in `userDataDir` when given so a relaunch is the same browser. The prefs must be set before launch: changing `dom.push.serverURL`
 * while Firefox runs drops every subscription. `env` is added to this process's
 * environment (a private session bus's address, for desktopNotifications.ts).
 */
export async function launchFirefox(prefs: Record<string, string | number | boolean>, userDataDir?: string, env?: Record<string, string>): Promise<Browser> {
  return puppeteer.launch({
    ...(env ? { env: { ...process.env, ...env } } : {}),
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: { ...basePrefs, ...prefs },
    // A kept profile keeps the push UAID and subscriptions across launches.
    ...(userDataDir ? { userDataDir } : {}),
  });
}
