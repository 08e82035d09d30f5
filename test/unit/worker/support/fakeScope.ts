// A small fake service-worker scope for unit tests: only the browser APIs the worker
// touches (registration, clients, caches, fetch, events with waitUntil). IndexedDB is
// fake-indexeddb, crypto is Node's real WebCrypto.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { vi } from 'vitest';

export interface ShownNotification {
  title: string;
  body?: string;
  tag?: string;
  data?: any;
  actions?: { action: string; title: string; icon?: string }[];
  options: Record<string, unknown>;
  closed: boolean;
  close(): void;
}

export interface FakeClient {
  id: string;
  url: string;
  type: 'window';
  focused: boolean;
  visibilityState: 'visible' | 'hidden';
  messages: unknown[];
  postMessage(message: unknown): void;
  focus(): Promise<FakeClient>;
  navigate(url: string): Promise<FakeClient | null>;
}

/** One request the worker made through fetch, with its parsed JSON body if any. */
export interface SeenRequest {
  method: string;
  url: string;
  body?: any;
  /** The request's headers, names lower-cased. */
  headers: Record<string, string>;
  /** The body as sent, for checks over its exact bytes (a signature). */
  text?: string;
}

export type FetchRoute = (request: Request) => Response | Promise<Response> | undefined;

/** An ExtendableEvent whose `waitUntil` promises the test can wait for. */
export class FakeEvent {
  readonly promises: Promise<unknown>[] = [];
  waitUntil(promise: Promise<unknown>): void {
    this.promises.push(promise);
  }
  /** Waits for everything passed to waitUntil, including promises added meanwhile; rethrows a rejection. */
  async settled(): Promise<void> {
    for (let done = 0; done < this.promises.length; ) {
      const batch = this.promises.slice(done);
      done = this.promises.length;
      await Promise.all(batch);
    }
  }
}

export function pushData(payload: string | Uint8Array | null) {
  if (payload === null) return null;
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return {
    arrayBuffer: () => bytes.slice().buffer,
    text: () => new TextDecoder().decode(bytes),
    json: () => JSON.parse(new TextDecoder().decode(bytes)),
    bytes: () => bytes.slice(),
    blob: () => new Blob([bytes.slice()]),
  };
}

export class FakePushEvent extends FakeEvent {
  readonly data: ReturnType<typeof pushData>;
  constructor(payload: string | Uint8Array | null | object) {
    super();
    this.data = pushData(
      payload === null || typeof payload === 'string' || payload instanceof Uint8Array ? payload : JSON.stringify(payload),
    );
  }
}

export class FakeNotificationEvent extends FakeEvent {
  constructor(
    readonly notification: ShownNotification,
    readonly action = '',
  ) {
    super();
  }
}

export interface ScopeOptions {
  origin?: string;
  /** Open windows of the site: paths, or partial clients. */
  windows?: Partial<FakeClient>[];
  /** Answers fetches; unmatched requests get a 404. */
  routes?: FetchRoute[];
  /** Leave IndexedDB out, as private modes do. */
  noIndexedDB?: boolean;
  maxActions?: number | undefined;
  /** Give the registration Background Sync. */
  sync?: boolean;
  /** navigator.userAgent; default Chromium's. */
  userAgent?: string;
  /** Leave the Badging API out, as Firefox does. */
  noBadging?: boolean;
  /** What pushManager.getSubscription() answers: this push subscription (its endpoint and auth secret), or null by default. */
  subscription?: { endpoint: string; auth: Uint8Array };
  /** Have WebKit's `onpushnotification` (Safari 18.4+, Declarative Web Push). */
  pushNotificationEvent?: boolean;
}

export const CHROMIUM_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
export const SAFARI_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15';
export const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0';

export type FakeScope = ReturnType<typeof installScope>;

/** Installs a fresh fake scope as the global `self` (plus fetch, caches, indexedDB). */
export function installScope(options: ScopeOptions = {}) {
  const origin = options.origin ?? 'https://site.example';
  const notifications: ShownNotification[] = [];
  const requests: SeenRequest[] = [];
  const routes: FetchRoute[] = [...(options.routes ?? [])];
  const opened: string[] = [];
  const syncTags: string[] = [];
  const listeners = new Map<string, ((event: unknown) => void)[]>();
  const stores = new Map<string, Map<string, Response>>();
  /** Every setAppBadge/clearAppBadge call, as the count set (0 for a clear). */
  const badges: number[] = [];
  let nextId = 0;

  const makeClient = (partial: Partial<FakeClient> = {}): FakeClient => {
    const client: FakeClient = {
      id: `c${nextId++}`,
      url: `${origin}/`,
      type: 'window',
      focused: false,
      visibilityState: 'visible',
      messages: [],
      postMessage: (message) => void client.messages.push(structuredClone(message)),
      focus: async () => {
        client.focused = true;
        return client;
      },
      navigate: async (url) => {
        client.url = new URL(url, origin).href;
        return client;
      },
      ...partial,
    };
    if (partial.url) client.url = new URL(partial.url, origin).href;
    return client;
  };
  const windows = (options.windows ?? []).map(makeClient);

  const registration = {
    scope: `${origin}/`,
    async showNotification(title: string, init: Record<string, any> = {}) {
      // Chrome's own checks.
      if (init.renotify && !init.tag) throw new TypeError('renotify needs a tag');
      await new Promise((resolve) => setTimeout(resolve, 0));
      const notification: ShownNotification = {
        title,
        body: init.body,
        tag: init.tag,
        data: init.data === undefined ? null : structuredClone(init.data),
        actions: init.actions,
        options: init,
        closed: false,
        close() {
          notification.closed = true;
          const at = notifications.indexOf(notification);
          if (at >= 0) notifications.splice(at, 1);
        },
      };
      const same = init.tag ? notifications.findIndex((n) => n.tag === init.tag) : -1;
      if (same >= 0) notifications.splice(same, 1);
      notifications.push(notification);
      shownLog.push(notification);
    },
    async getNotifications() {
      return [...notifications];
    },
    pushManager: {
      getSubscription: async () =>
        options.subscription
          ? { endpoint: options.subscription.endpoint, getKey: (name: string) => (name === 'auth' ? options.subscription!.auth.slice().buffer : null) }
          : null,
      subscribe: vi.fn(async (init: { applicationServerKey: string; userVisibleOnly: boolean }) => ({
        endpoint: 'https://push.example/new',
        options: init,
        toJSON: () => ({ endpoint: 'https://push.example/new', expirationTime: null, keys: { p256dh: 'p', auth: 'a' } }),
      })),
    },
    ...(options.sync ? { sync: { register: async (tag: string) => void syncTags.push(tag) } } : {}),
  };
  const shownLog: ShownNotification[] = [];

  const scope = {
    location: { href: `${origin}/sw.js`, origin, hostname: new URL(origin).hostname },
    registration,
    clients: {
      matchAll: async () => [...windows],
      openWindow: async (url: string) => {
        opened.push(url);
        const client = makeClient({ url, focused: true });
        windows.push(client);
        return client;
      },
    },
    Notification: { maxActions: 'maxActions' in options ? options.maxActions : 2 },
    navigator: {
      userAgent: options.userAgent ?? CHROMIUM_UA,
      ...(options.noBadging
        ? {}
        : {
            setAppBadge: async (count: number) => void badges.push(count),
            clearAppBadge: async () => void badges.push(0),
          }),
    },
    ...(options.pushNotificationEvent ? { onpushnotification: null } : {}),
    addEventListener: (type: string, listener: (event: unknown) => void) => {
      listeners.set(type, [...(listeners.get(type) ?? []), listener]);
    },
  };

  const fetchFake = vi.fn(async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const text = init?.body ? String(init.body) : undefined;
    requests.push({ method: request.method, url: request.url, body: text && JSON.parse(text), headers: Object.fromEntries(request.headers), ...(text ? { text } : {}) });
    if (init?.signal?.aborted) throw init.signal.reason;
    for (const route of routes) {
      const answer = await route(request);
      if (answer) return answer;
    }
    return new Response('not found', { status: 404 });
  });

  const caches = {
    async open(name: string) {
      const store = stores.get(name) ?? new Map<string, Response>();
      stores.set(name, store);
      return {
        put: async (key: string, response: Response) => void store.set(String(key), response),
        delete: async (key: string | Request) => store.delete(typeof key === 'string' ? key : key.url),
        keys: async () => [...store.keys()].map((url) => new Request(url)),
        match: async (key: string) => store.get(key),
      };
    },
  };

  vi.stubGlobal('self', scope);
  vi.stubGlobal('fetch', fetchFake);
  vi.stubGlobal('caches', caches);
  vi.stubGlobal('indexedDB', options.noIndexedDB ? undefined : new IDBFactory());

  return {
    scope,
    origin,
    registration,
    /** Notifications showing now. */
    notifications,
    /** Every notification shown, in order, including replaced and closed ones. */
    shownLog,
    requests,
    routes,
    windows,
    opened,
    syncTags,
    listeners,
    stores,
    badges,
    fetch: fetchFake,
    /** The analytics events POSTed to `{backend}/events`, in order. */
    events: () => requests.filter((r) => r.url.endsWith('/events')).flatMap((r) => r.body.events as any[]),
  };
}

/** Answers `POST …/events` with `status` (202 by default). */
export const eventsRoute =
  (status = 202): FetchRoute =>
  (request) =>
    request.url.endsWith('/events') ? new Response(null, { status }) : undefined;

/** Answers GET `path` with `body` (JSON if not a string). */
export const getRoute =
  (path: string, body: unknown, status = 200): FetchRoute =>
  (request) =>
    new URL(request.url).pathname === path && request.method === 'GET'
      ? new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })
      : undefined;

/** Runs a handler on a fresh event and waits for everything it passed to waitUntil. */
export async function dispatch<E extends FakeEvent>(handler: (event: never) => void, event: E): Promise<E> {
  handler(event as never);
  await event.settled();
  return event;
}
