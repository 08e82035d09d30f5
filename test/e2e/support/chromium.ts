import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

/** Debian's Chromium; Playwright cannot download its own browsers on these machines. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launch flags known to work here (DESIGN.md, "Testing"): no sandbox as root, no network chatter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** A fresh context with notifications granted for `origin`. */
export async function newContext(browser: Browser, origin: string): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.grantPermissions(['notifications'], { origin });
  return context;
}

interface Registration {
  registrationId: string;
  scopeURL: string;
  isDeleted: boolean;
}
interface Version {
  registrationId: string;
  status: string;
  runningStatus: string;
}

/**
 * Fires real `push` events at a page's service worker through the DevTools protocol
 * (`ServiceWorker.deliverPushMessage`). It waits until the worker is `activated`: a push
 * sent while it activates can be lost.
 */
export class PushDriver {
  private registrations = new Map<string, Registration>();
  private versions = new Map<string, Version>();
  private waiters = new Set<() => void>();

  private constructor(
    private readonly cdp: CDPSession,
    private readonly origin: string,
  ) {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      for (const r of registrations as Registration[]) this.registrations.set(r.registrationId, r);
      this.wake();
    });
    cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      for (const v of versions as Version[]) this.versions.set(v.registrationId, v);
      this.wake();
    });
  }

  static async attach(page: Page, origin: string): Promise<PushDriver> {
    const cdp = await page.context().newCDPSession(page);
    const driver = new PushDriver(cdp, origin);
    await cdp.send('ServiceWorker.enable');
    return driver;
  }

  /** The id of the live registration whose scope is `scope` once its worker is activated. */
  async activeRegistration(scope = `${this.origin}/`, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const r of this.registrations.values()) {
        if (r.isDeleted || r.scopeURL !== scope) continue;
        if (this.versions.get(r.registrationId)?.status === 'activated') return r.registrationId;
      }
      if (Date.now() > deadline) throw new Error(`no activated service worker for ${scope}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Delivers `data` (plain text, as the browser would after decryption) as one push. */
  async push(data: string, scope?: string): Promise<void> {
    const registrationId = await this.activeRegistration(scope);
    await this.cdp.send('ServiceWorker.deliverPushMessage', { origin: this.origin, registrationId, data });
  }

  async detach(): Promise<void> {
    await this.cdp.detach().catch(() => undefined);
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}
