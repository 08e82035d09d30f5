import type {
  Attributes,
  BackendAdapter,
  BackendHeaders,
  RegisterRequest,
  SealKey,
  SubscriptionJSON,
} from '../shared/protocol.js';
import {
  deleteValue,
  getValue,
  setValue,
  withTidingsDB,
  type PendingRegistration,
  type SyncState,
  type TidingsDatabase,
} from './db.js';
import { TidingsError } from '../shared/TidingsError.js';

// DOM-free on purpose (fetch, AbortSignal.timeout, IndexedDB, navigator.locks only). The
// service worker runs it, for itself and on behalf of every tab's page SDK, so it lives in
// worker/ beside the IndexedDB schema it keeps; the page only needs the option types,
// which protocol.ts holds (re-exported here for the worker's callers).

export type { BackendAdapter, BackendHeaders } from '../shared/protocol.js';

export interface BackendSyncOptions {
  /**
   * Base URL of the backend HTTP contract (`'/api/push'`), or an adapter. An adapter that
   * throws an error with a numeric `status` (or `details.status`) is treated like that
   * HTTP answer; any other throw is retried like a network error.
   */
  backend: string | BackendAdapter;
  /** Extra request headers, or a function called before each request. Default none. */
  headers?: BackendHeaders | undefined;
  /** ms before a request is abandoned (and retried). Default 10000. */
  timeout?: number;
  /** Attempts per call before an operation is left queued in IndexedDB. Default 3. */
  attempts?: number;
  /** ms before the first retry; doubles each attempt, with jitter. Default 1000. */
  retryDelay?: number;
  /**
   * The worker acting on its own (a push's flush, `sync`, `pushsubscriptionchange`), with
   * none of a page's credentials: it leaves operations that need them to a page, and keeps
   * a 401/403 queued for a page instead of dropping it. Default false.
   */
  background?: boolean;
}

/** What the backend should hold for this browser. */
export interface Registration {
  subscription: SubscriptionJSON;
  /** The VAPID public key the subscription was made with (base64url). */
  vapidPublicKey: string;
  /**
   * Merged over the attributes this browser keeps (the keys given win). Absent, the kept
   * ones are registered as they are: what a visitor chose is the browser's, and a page
   * (or the worker) that does not mention it must not drop it.
   */
  attributes?: Attributes | undefined;
  /** `attributes` replace the kept ones instead (`setAttributes`); `{}` clears them. */
  replace?: boolean | undefined;
  sealKey?: SealKey | undefined;
  /** true: without the visitor's identity from now on (logout); false: registered now, under whoever is logged in (login); absent: as last time. */
  anonymous?: boolean | undefined;
}

/**
 * Keeps the backend in step with this browser's subscription. Every call runs under one
 * lock (Web Locks, or a queue in this worker where that API is missing), so concurrent callers make one request. Failures that may pass (network
 * error, timeout, 5xx, 408, 429, a 2xx that is not `{id}` JSON) are retried `attempts` times
 * with backoff and then left queued in kv `pending`; other 4xx reject with TidingsError
 * `backend-failed` and `details.status`, and drop the operation.
 */
export interface BackendSync {
  /**
   * Registers `registration` unless the backend already has exactly it (then no request
   * is sent). A previous registration of another endpoint is deleted first. Resolves
   * with the sync state, or null when the registration is queued for a later try.
   */
  register(registration: Registration): Promise<SyncState | null>;
  /**
   * For `pushsubscriptionchange`: registers `subscription` with the key, attributes and
   * seal key last registered (or queued). Resolves null when queued, or when nothing was
   * ever registered here.
   */
  resubscribe(subscription: SubscriptionJSON): Promise<SyncState | null>;
  /** Deletes the registration from the backend and forgets it. Resolves false when the DELETE is queued. */
  unregister(): Promise<boolean>;
  /** Runs the queued operation, if any, with this instance's options. Resolves true when nothing is left queued. */
  flush(): Promise<boolean>;
  /** What is stored: the last agreed state and the queued operation. Never sends anything. */
  read(): Promise<{ sync?: SyncState | undefined; pending?: PendingRegistration | undefined }>;
}

/** Fallback for browsers without Web Locks: serialises calls within this worker. */
let tail: Promise<unknown> = Promise.resolve();

/** Creates the backend sync for `options` (checked by its callers). Sends and opens nothing until called. */
export function createBackendSync(options: BackendSyncOptions): BackendSync {
  const { backend, headers, timeout = 10_000, attempts = 3, retryDelay = 1000, background = false } = options;
  const adapter = typeof backend == 'string' ? undefined : backend;
  // Headers and adapters are never stored, so only a page can send what needed them.
  const credentials = !!adapter || (headers != null && (typeof headers == 'function' || !!Object.keys(headers).length));
  // Not checked again here, where every byte ships in the worker: the options come from
  // the worker's own (resolveOptions) or from the page SDK, which checked its own
  // (checkOptions) before sending them; an adapter is always adapterVia's.

  const request = async (method: string, path: string, body?: RegisterRequest): Promise<Response> => {
    const response = await fetch(`${(backend as string).replace(/\/+$/, '')}/subscriptions${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(typeof headers == 'function' ? await headers() : headers) },
      body: body && JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
    });
    // A DELETE of an id the backend no longer knows has done its job.
    if (!response.ok && !(method == 'DELETE' && response.status == 404)) {
      // A 400 names the field it refused (the backend contract): run() may drop a kept attribute.
      const { field } = (response.status == 400 && (await response.json().catch(() => 0))) || {};
      throw new TidingsError('backend-failed', { status: response.status, field: typeof field == 'string' ? field : undefined });
    }
    return response;
  };

  /**
   * Runs `op` (DELETE its backendId, then POST its subscription), retrying what may pass.
   * Resolves true when done, false when left queued.
   */
  const run = async (db: TidingsDatabase, op: PendingRegistration): Promise<boolean> => {
    if (background && op.needsPage) return false;
    if (credentials) op.needsPage = true;
    // Queued before the first request, so a tab closed mid-request loses nothing.
    await setValue(db, 'pending', op);
    for (let tries = 0; ; ) {
      try {
        const { backendId, subscription, vapidPublicKey = '', attributes, sealKey, anonymous } = op;
        if (backendId) {
          await (adapter ? adapter.unregister(backendId) : request('DELETE', '/' + encodeURIComponent(backendId)));
          delete op.backendId;
        }
        if (subscription) {
          const body = { subscription, attributes, sealKey, anonymous };
          const { id } = adapter ? await adapter.register(body) : await (await request('POST', '', body)).json();
          if (typeof id != 'string') throw new Error('no id');
          await setValue(db, 'sync', {
            endpoint: subscription.endpoint,
            backendId: id,
            vapidPublicKey,
            attributes,
            sealKey,
            anonymous,
            expirationTime: subscription.expirationTime ?? null,
            syncedAt: Date.now(),
          });
        }
        await deleteValue(db, 'pending');
        return true;
      } catch (error) {
        const status = (error as { status?: number }).status ?? (error as TidingsError).details?.status;
        const field = (error as TidingsError).details?.field!;
        // A kept attribute the backend now refuses (a key the site took out of its
        // clientAttributes): registered without it, or the visitor's new subscription
        // (pushsubscriptionchange, a new VAPID key) would be lost. Each key goes at most once.
        if (status == 400 && op.kept?.includes(field)) {
          op.kept = op.kept.filter((kept) => kept != field);
          delete op.attributes![field.slice(11)];
          continue;
        }
        // Without the page's credentials a 401/403 says nothing final: keep it for a page.
        if (background && (status == 401 || status == 403)) {
          await setValue(db, 'pending', { ...op, needsPage: true, lastError: String(status) });
          return false;
        }
        // Other 4xx will not pass by retrying: report them and drop the operation.
        if (status! < 500 && status != 408 && status != 429) {
          await deleteValue(db, 'pending');
          throw error instanceof TidingsError ? error : new TidingsError('backend-failed', { status, cause: error });
        }
        const delay = retryDelay * 2 ** tries * (0.5 + Math.random());
        op.attempts++;
        op.lastError = String((error as Error).message ?? error);
        op.nextAttemptAt = Date.now() + delay;
        await setValue(db, 'pending', op);
        if (++tries >= attempts) return false;
        await new Promise((wake) => setTimeout(wake, delay));
      }
    }
  };

  const register = async ({ replace, ...given }: Registration, db: TidingsDatabase): Promise<SyncState | null> => {
    const sync = await getValue(db, 'sync');
    const pending = await getValue(db, 'pending');
    const last = pending ?? sync;
    // Anonymous stays as the last logout() or login() left it; login() always registers.
    const registration = { ...given, anonymous: given.anonymous ?? last?.anonymous };
    // Read under the lock, so two tabs cannot each drop what the other just kept. A queued
    // DELETE (unsubscribed) keeps none.
    const kept = replace ? undefined : last?.attributes;
    if (kept) registration.attributes = { ...kept, ...registration.attributes };
    if (!pending && sync && given.anonymous !== false && same(sync, registration)) return sync;
    // Delete first what this registration replaces: a queued DELETE, the id a queued
    // registration meant to replace, or the last registration of another endpoint.
    const backendId =
      pending?.backendId ?? (sync?.endpoint != registration.subscription.endpoint ? sync?.backendId : undefined);
    // The kept keys this call did not give again: the only ones a 400 may drop (run()).
    const carried = Object.keys(kept ?? {})
      .filter((key) => !(key in (given.attributes ?? {})))
      .map((key) => 'attributes.' + key);
    return (await run(db, { ...registration, op: 'register', backendId, attempts: 0, kept: carried }))
      ? ((await getValue(db, 'sync')) ?? null)
      : null;
  };

  return {
    register: (registration) => locked((db) => register(registration, db)),
    resubscribe: (subscription) =>
      locked(async (db) => {
        const last = (await getValue(db, 'pending')) ?? (await getValue(db, 'sync'));
        const { vapidPublicKey, sealKey } = last ?? {};
        // register() keeps the attributes.
        return vapidPublicKey ? register({ subscription, vapidPublicKey, sealKey }, db) : null;
      }),
    unregister: () =>
      locked(async (db) => {
        const backendId = (await getValue(db, 'sync'))?.backendId ?? (await getValue(db, 'pending'))?.backendId;
        await deleteValue(db, 'sync');
        await deleteValue(db, 'pending');
        return !backendId || run(db, { op: 'unregister', backendId, attempts: 0 });
      }),
    flush: () =>
      locked(async (db) => {
        const pending = await getValue(db, 'pending');
        return !pending || run(db, pending);
      }),
    // No lock: a read is consistent on its own, and getState() must not wait out a retry.
    read: () => withTidingsDB(async (db) => ({ sync: await getValue(db, 'sync'), pending: await getValue(db, 'pending') })),
  };
}

/** True when the backend already holds exactly `registration`. */
function same(sync: SyncState, { subscription, vapidPublicKey, attributes, sealKey, anonymous }: Registration): boolean {
  return (
    sync.endpoint == subscription.endpoint &&
    !sync.anonymous == !anonymous &&
    sync.vapidPublicKey == vapidPublicKey &&
    sync.expirationTime == (subscription.expirationTime ?? null) &&
    fingerprint(sync.attributes) == fingerprint(attributes) &&
    fingerprint(sync.sealKey) == fingerprint(sealKey)
  );
}

/** Order-independent text of a flat object: `{a, b}` and `{b, a}` are the same registration. */
function fingerprint(value: object | undefined): string {
  return JSON.stringify(Object.entries(value ?? {}).sort());
}

/** Runs `task` with the database open, holding the tidings sync lock across tabs and the worker. */
function locked<T>(task: (db: TidingsDatabase) => Promise<T>): Promise<T> {
  const withDB = () => withTidingsDB(task);
  const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
  if (locks) return locks.request('tidings-sync', withDB);
  const result = tail.then(withDB, withDB);
  tail = result.catch(() => undefined);
  return result;
}
