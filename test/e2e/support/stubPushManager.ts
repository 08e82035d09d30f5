import type { SubscriptionJSON } from '../../../src/shared/protocol.js';

/**
 * An init script that replaces `PushManager.prototype.subscribe`/`getSubscription` in a
 * page and its service worker's clients: Chromium cannot reach a push service here
 * (DESIGN.md), so the subscription is one a local push service made (a headless
 * subscriber with real P-256 keys). The subscription outlives reloads through
 * localStorage, as a real one would.
 */
export function stubPushManager(subscription: SubscriptionJSON): [(sub: SubscriptionJSON) => void, SubscriptionJSON] {
  const script = (sub: SubscriptionJSON) => {
    const storageKey = 'tidings-test-subscription-key';
    const decode = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const encode = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const make = (key: Uint8Array) => ({
      endpoint: sub.endpoint,
      expirationTime: null,
      options: { applicationServerKey: key.slice().buffer, userVisibleOnly: true },
      getKey: (name: 'p256dh' | 'auth') => decode(sub.keys[name]).buffer,
      toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: { ...sub.keys } }),
      unsubscribe: async () => {
        localStorage.removeItem(storageKey);
        return true;
      },
    });
    const proto = PushManager.prototype as unknown as Record<string, unknown>;
    proto.subscribe = async function (options: { applicationServerKey?: string | BufferSource }) {
      const raw = options?.applicationServerKey;
      const key =
        typeof raw === 'string'
          ? decode(raw)
          : raw instanceof ArrayBuffer
            ? new Uint8Array(raw)
            : new Uint8Array((raw as ArrayBufferView).buffer, (raw as ArrayBufferView).byteOffset, (raw as ArrayBufferView).byteLength);
      localStorage.setItem(storageKey, encode(key));
      return make(key);
    };
    proto.getSubscription = async function () {
      const stored = localStorage.getItem(storageKey);
      return stored ? make(decode(stored)) : null;
    };
  };
  return [script, subscription];
}
