/**
 * A page init script (context.addInitScript) standing in for the push service, which
 * Chromium cannot reach here (DESIGN.md, Testing): PushManager.prototype.subscribe and
 * getSubscription answer a subscription with real P-256 keys made with WebCrypto and an
 * endpoint on this origin, kept in localStorage so it outlives a reload as a real one
 * does; a second key is refused with InvalidStateError as browsers do. The permission
 * prompt, which headless Chromium cannot show, answers localStorage 'stub-answer'
 * (default 'granted'). Everything else (service worker, IndexedDB, Web Locks, fetch,
 * <dialog>) is the real browser.
 */
export function stubPush(): void {
  const b64 = (bytes: ArrayBuffer | Uint8Array) =>
    btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const keyText = (key: BufferSource | string | null | undefined) =>
    typeof key == 'string' ? key : b64(key instanceof ArrayBuffer ? key : new Uint8Array((key as ArrayBufferView).buffer));
  const make = (stored: { endpoint: string; key: string; p256dh: string; auth: string; expirationTime: number | null }) => {
    const raw = Uint8Array.from(atob(stored.key.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    return {
      endpoint: stored.endpoint,
      expirationTime: stored.expirationTime,
      options: { userVisibleOnly: true, applicationServerKey: raw.buffer },
      getKey: () => null,
      toJSON: () => ({ endpoint: stored.endpoint, expirationTime: stored.expirationTime, keys: { p256dh: stored.p256dh, auth: stored.auth } }),
      unsubscribe: async () => {
        localStorage.removeItem('stub-subscription');
        return true;
      },
    };
  };
  const read = () => {
    const text = localStorage.getItem('stub-subscription');
    return text ? make(JSON.parse(text)) : null;
  };
  Object.defineProperty(PushManager.prototype, 'getSubscription', { value: async () => read() });
  Object.defineProperty(PushManager.prototype, 'subscribe', {
    value: async function (options: PushSubscriptionOptionsInit) {
      const existing = read();
      const key = keyText(options.applicationServerKey);
      if (existing) {
        if (keyText(existing.options.applicationServerKey) != key)
          throw new DOMException('A subscription with a different application server key already exists.', 'InvalidStateError');
        return existing;
      }
      const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
      const stored = {
        endpoint: `${location.origin}/push/ep/${crypto.randomUUID()}`,
        key,
        p256dh: b64(await crypto.subtle.exportKey('raw', pair.publicKey)),
        auth: b64(crypto.getRandomValues(new Uint8Array(16))),
        expirationTime: null,
      };
      localStorage.setItem('stub-subscription', JSON.stringify(stored));
      return make(stored);
    },
  });
  Object.defineProperty(Notification, 'permission', { get: () => localStorage.getItem('stub-permission') ?? 'default' });
  Object.defineProperty(Notification, 'requestPermission', {
    value: async () => {
      localStorage.setItem('stub-prompts', String(Number(localStorage.getItem('stub-prompts') ?? 0) + 1));
      if (!localStorage.getItem('stub-permission'))
        localStorage.setItem('stub-permission', localStorage.getItem('stub-answer') ?? 'granted');
      return localStorage.getItem('stub-permission');
    },
  });
}
