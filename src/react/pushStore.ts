// Only through the page entry, which the build leaves as the import 'tidings': the hook
// then shares the app's copy of the client code (the soft prompt's back-off is kept per
// client, in that copy).
import {
  isSupported,
  type Attributes,
  showSoftPrompt,
  TidingsError,
  type PushClient,
  type PushState,
  type SoftPromptAnswer,
  type SoftPromptOptions,
} from '../client/index.js';

/** The live push state of one client, as `usePush` gives it. */
export interface PushSnapshot {
  /** Web push works on this page (`isSupported()`), and there is a client. */
  supported: boolean;
  /** The notification permission. */
  permission: NotificationPermission;
  /** The browser holds a subscription made with the client's VAPID key. */
  subscribed: boolean;
  /** The backend holds that subscription as it is now. */
  synced: boolean;
  /**
   * The attributes this browser keeps with its subscription (`getState().attributes`):
   * what `setAttributes` chose, so a page can show the visitor's topics after a reload.
   * Undefined when not subscribed.
   */
  attributes: Attributes | undefined;
  /** The first state is being read, or an action is running: disable the buttons. */
  pending: boolean;
  /** Why the last action failed (a TidingsError, `error.code`); cleared when the next one starts. */
  error: Error | undefined;
}

/** The actions of `usePush`. They never reject: a failure lands in `error`, and they resolve undefined. */
export interface PushActions {
  /** `client.subscribe()`: call it from a click, the permission prompt needs the gesture. */
  subscribe(): Promise<PushState | undefined>;
  /** `client.unsubscribe()`. */
  unsubscribe(): Promise<PushState | undefined>;
  /** `showSoftPrompt(client, options)`: the polite pre-permission dialog, then subscribe on Allow. */
  ask(options?: SoftPromptOptions): Promise<SoftPromptAnswer | undefined>;
  /**
   * `client.setAttributes(attributes)`: replaces the visitor's attributes (`{}` clears
   * them). To change one key, spread the others: `setAttributes({ ...attributes, sports: true })`.
   */
  setAttributes(attributes: Attributes): Promise<void>;
}

export interface PushStore extends PushActions {
  get(): PushSnapshot;
  /** Adds a listener; the first one starts following the client, the last one leaving stops it. */
  subscribeStore(listener: () => void): () => void;
}

/** What the server renders (and hydration starts from): nothing is known yet. */
export const SERVER_SNAPSHOT: PushSnapshot = Object.freeze({
  supported: false,
  permission: 'default',
  subscribed: false,
  synced: false,
  attributes: undefined,
  pending: true,
  error: undefined,
});

// One store per client, so every component showing one client shares its state and requests.
const stores = new WeakMap<object, PushStore>();
const noClient = {};

/**
 * The store of `client`: a snapshot that changes identity only when something changed (as
 * useSyncExternalStore needs), fed by `client.onStateChange` and by the actions. Without a
 * client (its creation failed), push is unsupported and every action fails `unsupported`.
 */
export function pushStore(client: PushClient<unknown> | undefined | null): PushStore {
  const key = client ?? noClient;
  let store = stores.get(key);
  if (!store) stores.set(key, (store = createStore(client ?? undefined)));
  return store;
}

function createStore(client: PushClient<unknown> | undefined): PushStore {
  const supported = !!client && isSupported();
  let snapshot: PushSnapshot = {
    ...SERVER_SNAPSHOT,
    supported,
    permission: supported ? Notification.permission : 'default',
    pending: supported,
  };
  let reading = supported;
  let running = 0;
  let stop: (() => void) | undefined;
  const listeners = new Set<() => void>();

  const set = (next: Partial<PushSnapshot>): void => {
    const merged = { ...snapshot, ...next, pending: reading || running > 0 };
    // Each read answers new attributes: the same ones keep the old object, so no re-render.
    if (fingerprint(merged.attributes) == fingerprint(snapshot.attributes)) merged.attributes = snapshot.attributes;
    if ((Object.keys(merged) as (keyof PushSnapshot)[]).some((name) => merged[name] !== snapshot[name])) {
      snapshot = merged;
      listeners.forEach((listener) => listener());
    }
  };
  const show = ({ supported, permission, subscribed, synced, attributes }: PushState): void =>
    set({ supported, permission, subscribed, synced, attributes });

  const run = async <T>(action: (client: PushClient<unknown>) => Promise<T>): Promise<T | undefined> => {
    running++;
    set({ error: undefined });
    try {
      if (!client) throw new TidingsError('unsupported');
      return await action(client);
    } catch (error) {
      set({ error: error instanceof Error ? error : new Error(String(error)) });
      return undefined;
    } finally {
      running--;
      // The action may have changed what the browser holds; onStateChange also reports it.
      if (client) await client.getState().then(show, () => set({}));
      else set({});
    }
  };

  return {
    get: () => snapshot,
    subscribeStore(listener) {
      listeners.add(listener);
      if (client && !stop) {
        stop = client.onStateChange(show);
        client.getState().then(
          (state) => ((reading = false), show(state)),
          (error: Error) => ((reading = false), set({ error })),
        );
      }
      return () => {
        listeners.delete(listener);
        if (!listeners.size) {
          stop?.();
          stop = undefined;
        }
      };
    },
    subscribe: () => run((client) => client.subscribe()),
    unsubscribe: () => run((client) => client.unsubscribe()),
    ask: (options) => run((client) => showSoftPrompt(client as PushClient, options)),
    setAttributes: (attributes) => run((client) => client.setAttributes(attributes)),
  };
}

/** Order-independent text of attributes: `{a, b}` and `{b, a}` are the same. */
function fingerprint(attributes: Attributes | undefined): string | undefined {
  return attributes && JSON.stringify(Object.entries(attributes).sort());
}
