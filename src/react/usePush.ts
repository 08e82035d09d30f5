import { useMemo, useSyncExternalStore } from 'react';
import type { PushClient } from '../client/index.js';
import { pushStore, SERVER_SNAPSHOT, type PushActions, type PushSnapshot } from './pushStore.js';

/** What `usePush` gives: the live state and the actions. */
export type UsePushResult = PushSnapshot & PushActions;

/**
 * The live push state of `client` (supported, permission, subscribed, synced, attributes,
 * pending, error) and its actions (subscribe, unsubscribe, ask with the soft prompt,
 * setAttributes), for React 18+.
 * Components re-render when the state changes, wherever the change came from (another
 * tab, the worker, the permission settings). Pass the same client on every render (made
 * once, outside the component); `undefined` (its creation failed) reads as unsupported.
 * On the server, and while hydrating, it reads `pending` with nothing known.
 */
export function usePush<Data>(client: PushClient<Data> | undefined | null): UsePushResult {
  const store = pushStore(client as PushClient<unknown> | undefined);
  const snapshot = useSyncExternalStore(store.subscribeStore, store.get, () => SERVER_SNAPSHOT);
  return useMemo(
    () => ({ ...snapshot, subscribe: store.subscribe, unsubscribe: store.unsubscribe, ask: store.ask, setAttributes: store.setAttributes }),
    [snapshot, store],
  );
}
