import { describe, expect, it, vi } from 'vitest';
import { createPushClient } from '../../../../src/client/createPushClient.js';
import { pushStore } from '../../../../src/react/pushStore.js';
import { KEY, settle, until, useEnv } from '../support/setup.js';

// The store behind usePush, without React: what useSyncExternalStore reads and subscribes to.
// The hook itself runs in a real React app in Chromium (test/e2e/react.test.ts).
const env = useEnv();
const client = () => createPushClient({ vapidPublicKey: KEY.text, backend: env.backend.url });

describe('pushStore', () => {
  it('starts from what can be read at once, pending until the first state arrives', async () => {
    const store = pushStore(client());
    expect(store.get()).toEqual({
      supported: true,
      permission: 'default',
      subscribed: false,
      synced: false,
      attributes: undefined,
      pending: true,
      error: undefined,
    });
    const changed = vi.fn();
    store.subscribeStore(changed);
    await until(() => !store.get().pending);
    expect(store.get()).toMatchObject({ supported: true, subscribed: false, pending: false });
    expect(changed).toHaveBeenCalled();
  });

  it('keeps the same snapshot object while nothing changes, as useSyncExternalStore requires', async () => {
    const store = pushStore(client());
    store.subscribeStore(() => {});
    await until(() => !store.get().pending);
    const snapshot = store.get();
    await settle();
    expect(store.get()).toBe(snapshot);
  });

  it('is one store per client', () => {
    const one = client();
    expect(pushStore(one)).toBe(pushStore(one));
    expect(pushStore(one)).not.toBe(pushStore(client()));
  });

  it('subscribe: pending while it runs, then subscribed and synced', async () => {
    const store = pushStore(client());
    const seen: boolean[] = [];
    store.subscribeStore(() => seen.push(store.get().pending));
    await until(() => !store.get().pending);
    const state = await store.subscribe();
    expect(state).toMatchObject({ subscribed: true, synced: true });
    expect(seen).toContain(true);
    expect(store.get()).toMatchObject({ permission: 'granted', subscribed: true, synced: true, pending: false, error: undefined });
    expect(env.backend.requests.map((r) => r.method)).toEqual(['POST']);
  });

  it('setAttributes: shows the attributes the browser keeps, and a read of the same ones keeps their object', async () => {
    const store = pushStore(client());
    store.subscribeStore(() => {});
    await until(() => !store.get().pending);
    await store.subscribe();
    expect(await store.setAttributes({ sports: true, lang: 'fr' })).toBeUndefined();
    expect(store.get()).toMatchObject({ attributes: { sports: true, lang: 'fr' }, pending: false, error: undefined });
    const { attributes } = store.get();
    // Another action reads the state again: equal attributes, the same object (no re-render for them).
    await store.subscribe();
    expect(store.get().attributes).toBe(attributes);
    expect(env.backend.requests.map((r) => r.method)).toEqual(['POST', 'POST']);
  });

  it('a failed action resolves undefined and shows its error; the next action clears it', async () => {
    env.browser.answer = 'denied';
    const store = pushStore(client());
    store.subscribeStore(() => {});
    expect(await store.subscribe()).toBeUndefined();
    expect(store.get()).toMatchObject({ permission: 'denied', subscribed: false, pending: false, error: { code: 'permission-denied' } });
    expect(await store.unsubscribe()).toMatchObject({ subscribed: false });
    expect(store.get().error).toBeUndefined();
  });

  it('without a client (its creation threw) reads as unsupported, and actions fail unsupported', async () => {
    const store = pushStore(undefined);
    expect(store.get()).toMatchObject({ supported: false, pending: false });
    store.subscribeStore(() => {});
    expect(await store.ask()).toBeUndefined();
    expect(store.get().error).toMatchObject({ code: 'unsupported' });
  });

  it('follows the client while someone listens, and lets go when the last one leaves', async () => {
    const one = client();
    const stop = vi.fn();
    vi.spyOn(one, 'onStateChange').mockReturnValue(stop);
    const store = pushStore(one);
    const leave = [store.subscribeStore(() => {}), store.subscribeStore(() => {})];
    expect(one.onStateChange).toHaveBeenCalledTimes(1);
    leave[0]!();
    expect(stop).not.toHaveBeenCalled();
    leave[1]!();
    expect(stop).toHaveBeenCalledTimes(1);
  });
});
