import { createBackendSync, type BackendSync } from './backendSync.js';
import { openTidingsDB, type StoredSealKey, type TidingsDatabase } from './db.js';
import { isTidingsError } from '../shared/TidingsError.js';
import { createNotifier, type Notifier } from './createNotifier.js';
import { createOutbox, type Outbox } from './createOutbox.js';
import { createSeenIds, type SeenIds } from './createSeenIds.js';
import type { ResolvedOptions } from './resolveOptions.js';
import type { PushHandler, PushHooks } from './types.js';
import { withTimeout } from './withTimeout.js';

/** What every stage of one worker shares: options, plugins, storage, the outbox. */
export interface WorkerContext {
  options: ResolvedOptions;
  hooks: PushHooks[];
  handlers: Map<string, PushHandler>;
  /** The tidings database, opened on first use; undefined where IndexedDB is refused. */
  db(): Promise<TidingsDatabase | undefined>;
  outbox: Outbox;
  notifier: Notifier;
  /** The seal key, once a sealed push has read it (see resolveEnvelope). */
  sealKey?: Promise<StoredSealKey | undefined>;
  /** The recently seen message ids, for the replay guard. */
  seen: SeenIds;
  /**
   * The notifications clicked while this worker runs (clickedKey), so the close Firefox
   * fires after a click is not recorded as a dismissal. Kept in memory only: see
   * handleNotificationClose for a worker stopped in between.
   */
  clicked: Set<string | undefined>;
  /** The page SDK's registration logic and queue, where a backend is set. */
  sync?: BackendSync;
  /** Runs hook `name` of every plugin in order; a hook that throws is skipped. Resolves with the last answer. */
  call<K extends keyof PushHooks>(name: K, arg: Parameters<NonNullable<PushHooks[K]>>[0]): Promise<unknown>;
  /** Records a `failed` event for `error` (a reason, or an error whose reason is taken) and tells the `pushDidFail` hooks. */
  fail(error: unknown, messageId?: string): Promise<void>;
  /** Sends queued events and registrations; never rejects. `strict` rejects when something is left, for Background Sync to retry. */
  flush(strict?: boolean): Promise<void>;
  /**
   * Runs one event's work inside `event.waitUntil`, records a failure that escapes it
   * (for message `messageId`), then flushes. While other events' work runs, only full
   * batches of analytics are sent: the last to finish sends the rest, so a burst costs
   * the fewest requests.
   */
  run(event: ExtendableEvent, task: () => Promise<unknown>, messageId?: string): void;
}

export function createWorkerContext(options: ResolvedOptions): WorkerContext {
  // Events whose work has not reached its flush yet.
  let running = 0;
  let opened: Promise<TidingsDatabase | undefined> | undefined;
  const db = () =>
    (opened ??= withTimeout(openTidingsDB(), options.timeout).then(
      (database) => {
        // Let the page upgrade the schema instead of blocking it; the next use opens again.
        database.onversionchange = () => {
          database.close();
          opened = undefined;
        };
        return database;
      },
      () => {
        // Try again at the next use: one refused or slow open must not cost storage for
        // the worker's whole life.
        opened = undefined;
        return undefined;
      },
    ));
  const notifier = createNotifier();
  const w: WorkerContext = {
    options,
    hooks: [],
    handlers: new Map(),
    db,
    outbox: createOutbox(options, db, () => !running, notifier.settled),
    notifier,
    seen: createSeenIds(db, notifier.settled),
    clicked: new Set(),
    sync: options.backend ? createBackendSync({ backend: options.backend, timeout: options.timeout, background: true }) : undefined,
    async call(name, arg) {
      let answer: unknown;
      for (const hooks of w.hooks) {
        try {
          const next = await (hooks[name] as ((value: unknown) => unknown) | undefined)?.call(hooks, arg);
          // Only notificationWillShow chains: each hook edits the previous one's draft, and
          // false cancels. Other hooks are told, and what they return is ignored.
          if (name !== 'notificationWillShow' || next === undefined) continue;
          answer = arg = next as typeof arg;
          if (next === false) break;
        } catch {
          // A plugin's bug must not cost the user the notification.
        }
      }
      return answer;
    },
    async fail(error, messageId) {
      const reason =
        typeof error === 'string' ? error : isTidingsError(error) ? String(error.details.reason ?? error.code) : 'handler';
      await Promise.all([w.outbox.record('failed', messageId, { reason }), w.call('pushDidFail', { reason, error, messageId })]);
    },
    async flush(strict) {
      const sent = await Promise.allSettled([
        w.outbox.send(),
        // A registration the page (or an earlier event) left queued; checked on the open
        // connection first, so a push with nothing queued costs no lock and no second open.
        (async () => {
          const database = await db();
          if (database && (await database.get('kv', 'pending')) && !(await w.sync?.flush())) throw 0;
        })(),
      ]);
      // Rejects the sync event, so the browser schedules a retry; the value is never read.
      if (strict && sent.some((result) => result.status === 'rejected')) throw 0;
    },
    run(event, task, messageId) {
      running++;
      event.waitUntil(
        task()
          .catch((error) => w.fail(error, messageId))
          .then(() => {
            running--;
            return w.flush();
          }),
      );
    },
  };
  return w;
}
