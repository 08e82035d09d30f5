/**
 * A DevTools protocol session, as Playwright (`context.newCDPSession(page)`) and Puppeteer
 * (`page.createCDPSession()`) give one. Typed loosely (their typed overloads fit it).
 */
export interface CdpSession {
  send(method: string, params?: object): Promise<unknown>;
  on(event: never, listener: never): unknown;
  detach(): Promise<void>;
}

/** How this file listens on a session. */
type Listen = (event: string, listener: (params: never) => void) => unknown;

/** What `attachPushDriver` attaches to: a Playwright page, a Puppeteer page, or a DevTools session. */
export type PushDriverTarget =
  | { context(): { newCDPSession(page: never): Promise<CdpSession> } }
  | { createCDPSession(): Promise<CdpSession> }
  | CdpSession;

/** Fires real `push` events at a page's service worker in Chromium. */
export interface PushDriver {
  /**
   * Waits until the service worker registered for `scope` (a full scope URL, such as
   * `http://127.0.0.1:8080/`; default: the first registration seen) is activated, and
   * answers its registration id. Rejects after `timeout` ms (default 15000).
   */
  activeRegistration(scope?: string, timeout?: number): Promise<string>;
  /**
   * Delivers `data` (the plaintext the browser would have decrypted: what
   * `service.received(endpoint)` answers, or an object sent as JSON) as one push to the
   * worker of `scope`, once it is activated. Resolves when Chromium took it; the worker
   * handles it after.
   */
  push(data: string | object, scope?: string): Promise<void>;
  /** Ends the DevTools session. */
  detach(): Promise<void>;
}

interface Registration {
  registrationId: string;
  scopeURL: string;
  isDeleted: boolean;
}
interface Version {
  versionId: string;
  registrationId: string;
  status: string;
}

/**
 * Attaches to `target` through the DevTools protocol (`ServiceWorker.enable`) to deliver
 * pushes with `ServiceWorker.deliverPushMessage`: a real `push` event in the real worker,
 * with no push service involved. It delivers only to an activated worker: a push sent
 * while the worker is still activating can be lost (seen about one run in four).
 * Chromium only (other browsers have no such command).
 */
export async function attachPushDriver(target: PushDriverTarget): Promise<PushDriver> {
  const cdp: CdpSession =
    'send' in target
      ? target
      : 'createCDPSession' in target
        ? await target.createCDPSession()
        : await target.context().newCDPSession(target as never);
  const registrations = new Map<string, Registration>();
  const versions = new Map<string, Version>();
  let wake: () => void = () => {};
  let changed = new Promise<void>((resolve) => (wake = resolve));
  const update = () => {
    wake();
    changed = new Promise<void>((resolve) => (wake = resolve));
  };
  const on = cdp.on.bind(cdp) as Listen;
  on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }: { registrations: Registration[] }) => {
    for (const registration of list) registrations.set(registration.registrationId, registration);
    update();
  });
  on('ServiceWorker.workerVersionUpdated', ({ versions: list }: { versions: Version[] }) => {
    for (const version of list) versions.set(version.versionId, version);
    update();
  });
  await cdp.send('ServiceWorker.enable');

  /** The registration of `scope` (or the first) whose worker is activated. */
  const activated = (scope: string | undefined): Registration | undefined =>
    [...registrations.values()].find(
      (registration) =>
        !registration.isDeleted &&
        (scope === undefined || registration.scopeURL === scope) &&
        [...versions.values()].some((v) => v.registrationId === registration.registrationId && v.status === 'activated'),
    );

  const waitFor = async (scope: string | undefined, timeout = 15_000): Promise<Registration> => {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = activated(scope);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no activated service worker${scope ? ` for ${scope}` : ''} within ${timeout} ms`);
      await Promise.race([changed, new Promise((resolve) => setTimeout(resolve, Math.min(left, 250)))]);
    }
  };

  return {
    activeRegistration: async (scope, timeout) => (await waitFor(scope, timeout)).registrationId,
    async push(data, scope) {
      const { registrationId, scopeURL } = await waitFor(scope);
      await cdp.send('ServiceWorker.deliverPushMessage', {
        origin: new URL(scopeURL).origin,
        registrationId,
        data: typeof data === 'string' ? data : JSON.stringify(data),
      });
    },
    detach: () => cdp.detach().catch(() => undefined),
  };
}
