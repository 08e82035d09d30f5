import type { BackendAdapter, BackendHeaders } from '../shared/backendSync.js';
import type { Attributes } from '../shared/protocol.js';
import { fromP256Key } from '../shared/base64url.js';
import { TidingsError } from '../shared/TidingsError.js';

/** Options of `createPushClient`. Checked once, when the client is created. */
export interface PushClientOptions {
  /** The VAPID public key: base64url of the 65-byte uncompressed P-256 point. Required. */
  vapidPublicKey: string;
  /** Script URL of the service worker to register, or a registration the site made. Default `'/sw.js'`. */
  serviceWorker?: string | ServiceWorkerRegistration | undefined;
  /** Scope to register the service worker with. Default: the script's folder. */
  scope?: string | undefined;
  /**
   * When tidings registers `serviceWorker` (a script URL): `'subscribe'`, only inside
   * `subscribe()` (a visitor who never subscribes gets no worker); `'load'`, also once the
   * page has loaded, for sites whose worker does more than push (a Workbox or Serwist
   * precache). Default `'subscribe'`.
   */
  registerServiceWorker?: 'load' | 'subscribe' | undefined;
  /** Base URL of the backend HTTP contract (`'/api/push'` or `'https://…'`), or `{register, unregister}` functions. Required. */
  backend: string | BackendAdapter;
  /** Extra headers for backend requests (auth, CSRF), or a function returning them. Default none. */
  headers?: BackendHeaders | undefined;
  /** User id, tags, locale...: sent with the registration. Default none. */
  attributes?: Attributes | undefined;
  /** Generate a seal key and register it, so the backend can seal payloads end to end. Default false. */
  sealed?: boolean | undefined;
  /** ms before a backend request is abandoned and retried, and before a silent worker counts as missing. Default 10000. */
  timeout?: number | undefined;
}

/**
 * Checks `options` and answers the VAPID key's bytes. Throws TidingsError
 * `invalid-option` naming the first bad option in `details.option` and saying why in
 * `details.reason` (`missing`, or what it must be).
 */
export function checkOptions(options: PushClientOptions): Uint8Array<ArrayBuffer> {
  const { vapidPublicKey, serviceWorker, scope, registerServiceWorker, backend, headers, attributes, sealed, timeout } =
    options ?? {};
  const key = fromP256Key(vapidPublicKey);
  check('vapidPublicKey', vapidPublicKey, key, 'must be a base64url 65-byte P-256 public key', true);
  // A relative path without its leading slash would resolve against each page's own URL.
  check(
    'backend',
    backend,
    typeof backend == 'string'
      ? /^(\/|https?:\/\/)/i.test(backend)
      : typeof backend?.register == 'function' && typeof backend.unregister == 'function',
    'must start with / or be an absolute URL, or be {register, unregister} functions',
    true,
  );
  check('headers', headers, /^(object|function)$/.test(typeof headers), 'must be an object or a function');
  check(
    'serviceWorker',
    serviceWorker,
    typeof serviceWorker == 'string' ? serviceWorker : (serviceWorker as { pushManager?: unknown } | undefined)?.pushManager,
    'must be a script URL or a ServiceWorkerRegistration',
  );
  check('scope', scope, typeof scope == 'string', 'must be a string');
  check('registerServiceWorker', registerServiceWorker, /^(load|subscribe)$/.test(registerServiceWorker!), "must be 'load' or 'subscribe'");
  checkAttributes(attributes);
  check('sealed', sealed, typeof sealed == 'boolean', 'must be a boolean');
  check('timeout', timeout, Number.isFinite(timeout) && timeout! > 0, 'must be a number of ms above 0');
  return key!;
}

/** Attributes are a flat object of strings, finite numbers and booleans. */
export function checkAttributes(attributes: unknown): void {
  check('attributes', attributes, typeof attributes == 'object' && !Array.isArray(attributes), 'must be an object');
  for (const [name, value] of Object.entries(attributes ?? {}))
    check('attributes', 0, ['string', 'boolean'].includes(typeof value) || Number.isFinite(value), `${name} must be a string, finite number or boolean`);
}

/**
 * Throws `invalid-option` for `option` unless `ok`: reason `missing` when a required
 * option is absent (or ''), else `reason`. An absent optional one is fine.
 */
function check(option: string, value: unknown, ok: unknown, reason: string, required?: boolean): void {
  const missing = value == null || (required && value === '');
  if (missing ? required : !ok) throw new TidingsError('invalid-option', { option, reason: missing ? 'missing' : reason });
}
