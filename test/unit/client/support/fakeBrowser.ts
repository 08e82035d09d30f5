import { FakeLockManager } from './fakeLocks.js';

// Fakes of the browser APIs happy-dom lacks (Push API, service worker container,
// Notification, Permissions, Web Locks), just deep enough to behave as the specs say
// for what tidings calls. Everything else (DOM, dialog, fetch, events) is happy-dom's.

let endpoints = 0;

export class FakeWorker extends EventTarget {
  /** Where the page's postMessage goes: set by setup.ts to the real worker's request handler. */
  static onmessage: (data: unknown, ports: MessagePort[]) => void = () => {};
  constructor(public state: ServiceWorkerState) {
    super();
  }
  postMessage(data: unknown, transfer: MessagePort[] = []): void {
    // Cloned, as postMessage does, so neither side shares objects with the other.
    FakeWorker.onmessage(structuredClone(data), transfer);
  }
  set(state: ServiceWorkerState): void {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }
}

export class FakeSubscription {
  unsubscribed = false;
  readonly endpoint = `https://push.example/ep/${++endpoints}`;
  readonly options: { userVisibleOnly: boolean; applicationServerKey: ArrayBuffer };
  constructor(
    key: ArrayBuffer,
    public expirationTime: number | null = null,
    private readonly manager?: FakePushManager,
  ) {
    this.options = { userVisibleOnly: true, applicationServerKey: key };
  }
  toJSON() {
    return { endpoint: this.endpoint, expirationTime: this.expirationTime, keys: { p256dh: 'BP256', auth: 'AUTH' } };
  }
  async unsubscribe(): Promise<boolean> {
    this.unsubscribed = true;
    if (this.manager?.subscription === this) this.manager.subscription = null;
    return true;
  }
}

export class FakePushManager {
  subscription: FakeSubscription | null = null;
  subscribeCalls: PushSubscriptionOptionsInit[] = [];
  /** Thrown by the next subscribe() when set. */
  failWith: Error | undefined;
  constructor(private readonly registration: FakeRegistration) {}
  async getSubscription(): Promise<FakeSubscription | null> {
    return this.subscription;
  }
  async subscribe(options: PushSubscriptionOptionsInit): Promise<FakeSubscription> {
    this.subscribeCalls.push(options);
    if (this.failWith) throw this.failWith;
    if (!this.registration.active) throw new DOMException('no active worker', 'InvalidStateError');
    const key = new Uint8Array(options.applicationServerKey as Uint8Array).slice().buffer;
    if (this.subscription) {
      // Browsers refuse a second key for one registration (PUSH-FACTS §6.6).
      if (!sameBytes(this.subscription.options.applicationServerKey, key))
        throw new DOMException('A subscription with a different application server key already exists.', 'InvalidStateError');
      return this.subscription;
    }
    return (this.subscription = new FakeSubscription(key, null, this));
  }
}

export class FakeRegistration {
  active: FakeWorker | null = null;
  installing: FakeWorker | null = null;
  waiting: FakeWorker | null = null;
  readonly pushManager = new FakePushManager(this);
  constructor(readonly scope: string) {}
}

export class FakeContainer extends EventTarget {
  registrations = new Map<string, FakeRegistration>();
  registerCalls: string[] = [];
  /** What a newly installed worker does next: activate, or fail its install. */
  installOutcome: 'activated' | 'redundant' | 'stuck' = 'activated';
  registerError: Error | undefined;

  async register(url: string, options: { scope?: string } = {}): Promise<FakeRegistration> {
    this.registerCalls.push(url);
    if (this.registerError) throw this.registerError;
    const scope = new URL(options.scope ?? new URL('./', new URL(url, location.href)).href, location.href).href;
    let registration = this.registrations.get(scope);
    if (registration) return registration;
    registration = new FakeRegistration(scope);
    this.registrations.set(scope, registration);
    const worker = (registration.installing = new FakeWorker('installing'));
    const outcome = this.installOutcome;
    setTimeout(() => {
      if (outcome == 'stuck') return;
      registration!.installing = null;
      if (outcome == 'activated') {
        registration!.active = worker;
        worker.set('activating');
        worker.set('activated');
      } else worker.set('redundant');
    }, 5);
    return registration;
  }
  async getRegistration(clientURL = location.href): Promise<FakeRegistration | undefined> {
    const url = new URL(clientURL, location.href).href;
    return [...this.registrations.values()]
      .filter((r) => url.startsWith(r.scope))
      .sort((a, b) => b.scope.length - a.scope.length)[0];
  }
  /** A message from the worker to this page. */
  post(data: unknown): void {
    this.dispatchEvent(new MessageEvent('message', { data }));
  }
}

export class FakePermissionStatus extends EventTarget {
  constructor(public state: PermissionState) {
    super();
  }
}

export interface FakeBrowser {
  container: FakeContainer;
  locks: FakeLockManager;
  permissionStatus: FakePermissionStatus;
  /** The notification permission now. */
  permission: NotificationPermission;
  /** What the permission prompt answers; 'default' is a dismissed prompt. */
  answer: NotificationPermission;
  /** How many times the permission prompt was shown. */
  prompts: number;
  /** An active registration at /sw.js with a subscription made with `key` (a returning visitor). */
  subscribedWith(key: Uint8Array, expirationTime?: number | null): Promise<FakeSubscription>;
  uninstall(): void;
}

/** Installs the fakes on this happy-dom window: a secure context that supports push. */
export function installFakeBrowser(): FakeBrowser {
  const container = new FakeContainer();
  const locks = new FakeLockManager();
  const permissionStatus = new FakePermissionStatus('prompt');
  const browser: FakeBrowser = {
    container,
    locks,
    permissionStatus,
    permission: 'default',
    answer: 'granted',
    prompts: 0,
    async subscribedWith(key, expirationTime = null) {
      const registration = await container.register('/sw.js');
      registration.installing = null;
      registration.active = new FakeWorker('activated');
      browser.permission = 'granted';
      return (registration.pushManager.subscription = new FakeSubscription(
        key.slice().buffer,
        expirationTime,
        registration.pushManager,
      ));
    },
    uninstall() {
      for (const name of ['PushManager', 'Notification', 'isSecureContext']) delete (window as unknown as Record<string, unknown>)[name];
      for (const name of ['serviceWorker', 'permissions', 'locks']) delete (navigator as unknown as Record<string, unknown>)[name];
    },
  };
  const Notification = {
    get permission() {
      return browser.permission;
    },
    requestPermission(callback?: (p: NotificationPermission) => void): Promise<NotificationPermission> {
      browser.prompts++;
      if (browser.permission == 'default') browser.permission = browser.answer;
      callback?.(browser.permission);
      return Promise.resolve(browser.permission);
    },
  };
  define(window, 'PushManager', FakePushManager);
  define(window, 'Notification', Notification);
  define(window, 'isSecureContext', true);
  define(navigator, 'serviceWorker', container);
  define(navigator, 'locks', locks);
  define(navigator, 'permissions', { query: async () => permissionStatus });
  return browser;
}

function define(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, configurable: true, writable: true });
}

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): boolean {
  return a.byteLength == b.byteLength && new Uint8Array(a).every((byte, i) => byte == new Uint8Array(b)[i]);
}
