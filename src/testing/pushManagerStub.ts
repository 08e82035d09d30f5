import type { SubscriptionJSON } from '../shared/protocol.js';

/**
 * A script for a browser page (Playwright's `context.addInitScript(script)`, a `<script>`,
 * or WebDriver's execute) that makes `PushManager` hand out `subscription`, a headless
 * subscriber of `startPushService()`: Chromium cannot reach a push service in a test
 * (an incognito-like context, Playwright's `newContext()`, refuses `subscribe()` at once
 * with `AbortError: Registration failed - permission denied`, even with notifications granted;
 * a persistent profile hangs trying to reach Google's), so the page gets one whose
 * endpoint is the local service, with real keys. What your backend sends to it can then
 * be read with `service.received(endpoint)` and handed to the worker as a real push
 * (`attachPushDriver`).
 *
 * The stub behaves as browsers do where it matters to a site: `subscribe()` rejects
 * `NotAllowedError` until notifications are granted (`context.grantPermissions`) and
 * without `userVisibleOnly: true`, `InvalidStateError` for a second VAPID key while a
 * subscription exists; `getSubscription()` answers it after a reload (kept in
 * localStorage), until `unsubscribe()`; `permissionState()` follows the notification
 * permission. One expression (no trailing semicolon), so it also fits where an
 * expression is evaluated. A string, not a function: a function serialised into the page carries
 * whatever its compiler added (esbuild's and tsx's `__name`), which the page lacks.
 */
export function pushManagerStub(subscription: SubscriptionJSON): string {
  const { endpoint, expirationTime = null, keys } = subscription;
  const sub = JSON.stringify({ endpoint, expirationTime, keys: { p256dh: keys.p256dh, auth: keys.auth } });
  return `(() => {
  if (typeof PushManager == 'undefined') return;
  const sub = ${sub};
  const storageKey = 'tidings-test-push-key';
  const decode = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const encode = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const bytesOf = (key) =>
    typeof key == 'string' ? decode(key)
    : key instanceof ArrayBuffer ? new Uint8Array(key)
    : new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
  const make = (key) => ({
    endpoint: sub.endpoint,
    expirationTime: sub.expirationTime,
    options: { applicationServerKey: key.slice().buffer, userVisibleOnly: true },
    getKey: (name) => (sub.keys[name] ? decode(sub.keys[name]).buffer : null),
    toJSON: () => ({ endpoint: sub.endpoint, expirationTime: sub.expirationTime, keys: { ...sub.keys } }),
    unsubscribe: async () => (localStorage.removeItem(storageKey), true),
  });
  const read = () => {
    const key = localStorage.getItem(storageKey);
    return key ? make(decode(key)) : null;
  };
  const define = (name, value) => Object.defineProperty(PushManager.prototype, name, { value, configurable: true, writable: true });
  define('subscribe', async function subscribe(options) {
    if (typeof Notification == 'undefined' || Notification.permission != 'granted')
      throw new DOMException('Registration failed - permission denied', 'NotAllowedError');
    if (!options || options.userVisibleOnly !== true)
      throw new DOMException('Push subscriptions must be user-visible: pass userVisibleOnly: true', 'NotAllowedError');
    if (!options.applicationServerKey)
      throw new DOMException('Registration failed - missing applicationServerKey', 'AbortError');
    const key = bytesOf(options.applicationServerKey);
    const existing = localStorage.getItem(storageKey);
    if (existing && existing != encode(key))
      throw new DOMException('A subscription with a different application server key already exists.', 'InvalidStateError');
    localStorage.setItem(storageKey, encode(key));
    return make(key);
  });
  define('getSubscription', async function getSubscription() {
    return read();
  });
  define('permissionState', async function permissionState() {
    const permission = typeof Notification == 'undefined' ? 'denied' : Notification.permission;
    return permission == 'default' ? 'prompt' : permission;
  });
})()`;
}
