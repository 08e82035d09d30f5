import {
  MESSAGE_SOURCE,
  type Attributes,
  type BackendRoute,
  type JsonValue,
  type PushDataMessage,
  type StoredSync,
  type SubscriptionJSON,
} from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';
import { activeRegistration } from './activeRegistration.js';
import { askWorker, type WorkerRequest } from './askWorker.js';
import { diagnose } from './diagnose.js';
import { isSupported } from './isSupported.js';
import type { PushClient, PushState } from './PushClient.js';
import { checkAttributes, checkOptions, type PushClientOptions } from './PushClientOptions.js';

/** A subscription this close to its `expirationTime` is replaced (Chrome's may expire after 90 days). */
const REFRESH_BEFORE = 86_400_000;
/** First delay of the background retries of a queued registration; doubles each time, up to 10 minutes. */
const RETRY_DELAY = 30_000;

/** How showSoftPrompt reaches a client's worker to read and record its back-off. */
export const promptRequests = new WeakMap<PushClient, (later?: boolean) => Promise<{ nextAt: number } | undefined>>();

/**
 * Creates the page client. Options are checked now (`invalid-option` naming the option).
 * Where push is supported it then checks quietly, asking nothing: a subscription that
 * exists is kept in step with the backend (no request when nothing changed), a queued
 * registration is finished, and a subscription made with another VAPID key or about to
 * expire is replaced (the backend is told: DELETE, then POST).
 */
export function createPushClient<Data = JsonValue>(options: PushClientOptions): PushClient<Data> {
  const key = checkOptions(options);
  const { serviceWorker = '/sw.js', scope, sealed, backend, headers, timeout = 10_000, registerServiceWorker } = options;
  // Recorded with the subscription for local-time sends and languages; the page's own attributes win.
  const locale = options.localeAttributes != false && {
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    language: navigator.language,
  };
  const adapter = typeof backend == 'string' ? undefined : backend;
  // The options' attributes are merged over what the worker keeps; setAttributes' replace it.
  let { attributes } = options;
  let replace: true | undefined;
  const supported = isSupported();
  const listeners = new Set<(state: PushState) => void>();
  let lastError: string | undefined;
  let retryTimer: ReturnType<typeof setTimeout>;
  let watching = false;

  // Compared as bytes, so the page needs no base64url encoder.
  const keyMatches = (subscription: PushSubscription): boolean =>
    String(new Uint8Array(subscription.options.applicationServerKey ?? [])) == String(key);
  const find = async (): Promise<ServiceWorkerRegistration | undefined> =>
    // A script URL lies inside its own default scope, so it finds the registration too.
    typeof serviceWorker == 'string' ? navigator.serviceWorker.getRegistration(scope ?? serviceWorker) : serviceWorker;
  /**
   * Asks the tidings worker of `registration`, which owns IndexedDB and backend sync;
   * answers undefined when no worker is active (then nothing was ever stored). A request
   * that may reach the backend (sync, unsync) gets this page's backend, headers (the
   * function is called now) and timeout.
   */
  const send = async <T>(registration: ServiceWorkerRegistration | undefined, request: Unrouted<WorkerRequest>) =>
    registration?.active
      ? askWorker<T>(
          registration.active,
          (/sync/.test(request.kind)
            ? {
                ...request,
                backend: adapter ? undefined : new URL(backend as string, location.href).href,
                headers: typeof headers == 'function' ? await headers() : headers,
                timeout,
              }
            : request) as WorkerRequest,
          adapter,
          timeout,
        )
      : undefined;
  /** What the worker stored for `registration`: what the backend acknowledged, what is queued. */
  const stored = (registration: ServiceWorkerRegistration | undefined) => send<StoredSync>(registration, { kind: 'state' });

  const getState = async (): Promise<PushState> => {
    const state: PushState = {
      supported,
      permission: supported ? Notification.permission : 'default',
      subscribed: false,
      synced: false,
    };
    if (supported) {
      const registration = await find();
      const subscription = await registration?.pushManager.getSubscription();
      const sync = await stored(registration);
      if (subscription && keyMatches(subscription))
        Object.assign(state, {
          subscribed: true,
          endpointOrigin: new URL(subscription.endpoint).origin,
          synced: !sync?.pending && sync?.endpoint == subscription.endpoint,
          attributes: sync?.attributes,
        });
      state.lastError = lastError ?? sync?.pending?.lastError;
    }
    return state;
  };

  const emit = (): void => {
    if (listeners.size) getState().then((state) => listeners.forEach((fn) => fn(state)), noop);
  };
  const failed = (error: unknown): never => {
    lastError = String((error as Error).message ?? error);
    throw error;
  };

  /** Runs one public action: rejects `unsupported` where push is missing, remembers a failure, tells listeners. */
  const act = async <T>(task: () => Promise<T>): Promise<T> => {
    try {
      if (!supported) throw new TidingsError('unsupported');
      lastError = undefined;
      return await task();
    } catch (error) {
      return failed(error);
    } finally {
      emit();
    }
  };

  /**
   * Retries a queued operation while the page lives (the next load or the worker also
   * will), by asking the worker again. `done` false (queued) starts it.
   */
  const retry = (done: boolean | undefined, delay = RETRY_DELAY): void => {
    if (done !== false) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(
      () => check().then((done) => (done === false ? retry(done, Math.min(delay * 2, 600_000)) : emit()), emit),
      delay * (0.5 + Math.random()),
    );
  };

  /**
   * Asks only while the permission is 'default': WebKit answers 'denied' to a request
   * outside a gesture even when permission is granted.
   */
  const ask = (): Promise<NotificationPermission> =>
    Notification.permission == 'default'
      ? // Old Safari only calls back; browsers since return a promise.
        new Promise((resolve) => Notification.requestPermission(resolve)?.then(resolve))
      : Promise.resolve(Notification.permission);

  /**
   * Brings browser and backend in line. A subscription made with another key, or about to
   * expire, is dropped and made again: browsers refuse a second key (InvalidStateError).
   * A new one is also made when `optIn`. Then the worker registers it with the backend; it
   * sends nothing when nothing changed, and deletes a replaced registration first.
   * Resolves false when the registration is left queued.
   */
  const reconcile = async (
    registration: ServiceWorkerRegistration | undefined,
    optIn: boolean,
    anonymous?: boolean,
  ): Promise<boolean | undefined> => {
    let subscription = await registration?.pushManager.getSubscription();
    if (subscription && (!keyMatches(subscription) || (subscription.expirationTime ?? Infinity) < Date.now() + REFRESH_BEFORE)) {
      await subscription.unsubscribe();
      subscription = null;
      optIn = true;
    }
    // A visitor who never unsubscribed, but whose subscription the browser no longer has (a
    // replacement above failed, or it expired), is subscribed again: permission stands, so
    // nothing is asked, and the backend's registration of the old one is replaced.
    if (!subscription && !optIn && Notification.permission == 'granted') {
      const sync = await stored(registration);
      optIn = !!sync?.endpoint || sync?.pending?.op == 'register';
    }
    if (optIn && !subscription)
      try {
        subscription = await registration!.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: key,
        });
      } catch (cause) {
        throw new TidingsError('subscribe-failed', { cause, reason: String(cause) });
      }
    // Without a subscription, a DELETE queued by an earlier page still goes out.
    return send<boolean>(registration, {
      kind: 'sync',
      registration: subscription
        ? {
            subscription: subscription.toJSON() as SubscriptionJSON,
            vapidPublicKey: options.vapidPublicKey,
            // The zone and language go with the page's own attributes, over what the worker keeps.
            attributes: locale ? { ...locale, ...attributes } : attributes,
            replace,
            sealed,
            anonymous,
          }
        : undefined,
    });
  };

  /** With `anonymous`, registers again now: without the visitor's identity (logout) or under whoever is logged in (login). */
  const check = async (anonymous?: boolean): Promise<boolean | undefined> => reconcile(await find(), false, anonymous);
  const relink = (anonymous: boolean) =>
    act(async () => {
      retry(await check(anonymous));
      return getState();
    });

  const listen = (kind: string, fn: (data: never) => void): (() => void) => {
    // The tidings tag and one exact kind: anything else is not ours.
    const listener = ({ data }: MessageEvent): void => {
      if (data?.source == MESSAGE_SOURCE && data.kind == kind) fn(data as never);
    };
    if (!supported) return noop;
    navigator.serviceWorker.addEventListener('message', listener);
    return () => navigator.serviceWorker.removeEventListener('message', listener);
  };

  if (supported) check().then(retry).catch(failed).catch(emit);
  // After the load event, so the worker's install (a precache) does not compete with the
  // page's own requests. Not only where push works: an iOS tab still wants the precache.
  // A registration the site passed is registered already.
  if (registerServiceWorker == 'load' && typeof serviceWorker == 'string' && 'serviceWorker' in navigator) {
    const register = () => activeRegistration(serviceWorker, scope).then(emit, failed).catch(emit);
    // (The load event fires once: the listener needs no removing.)
    document.readyState == 'complete' ? register() : addEventListener('load', register);
  }

  const client: PushClient<Data> = {
    getState,
    requestPermission: () => act(ask),
    subscribe: () =>
      act(async () => {
        // Asked before any await, so the prompt stays inside the user's gesture (Safari, Firefox).
        const permission = await ask();
        if (permission != 'granted') throw new TidingsError(permission == 'denied' ? 'permission-denied' : 'permission-dismissed');
        retry(await reconcile(await activeRegistration(serviceWorker, scope), true));
        return getState();
      }),
    unsubscribe: () =>
      act(async () => {
        const registration = await find();
        await (await registration?.pushManager.getSubscription())?.unsubscribe();
        retry(await send(registration, { kind: 'unsync' }));
        return getState();
      }),
    logout: (options) => (options?.unsubscribe ? client.unsubscribe() : relink(true)),
    login: () => relink(false),
    setAttributes: (next) =>
      act(async () => {
        checkAttributes(next);
        attributes = next;
        replace = true;
        retry(await check());
      }),
    onMessage: (fn) => listen('push-data', ({ data, envelope }: PushDataMessage) => fn(data as Data, envelope)),
    // The message carries its protocol tag and kind beside the click's own fields.
    onNotificationClick: (fn) => listen('notification-click', fn),
    onStateChange(fn) {
      if (supported && !watching) {
        watching = true;
        navigator.permissions?.query({ name: 'notifications' }).then((status) => status.addEventListener('change', emit), noop);
        listen('subscription-changed', emit);
      }
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    diagnose: () => diagnose(getState, keyMatches, supported ? find : undefined, stored),
  };
  promptRequests.set(client as PushClient, async (later) =>
    send(later ? await activeRegistration(serviceWorker, scope) : await find(), { kind: 'prompt', later }),
  );
  return client;
}

function noop(): void {}

/** A request as the client's code writes it: `send` adds the backend route. */
type Unrouted<R> = R extends BackendRoute ? Omit<R, keyof BackendRoute> : R;
