import type { BackendAdapter, BackendHeaders } from '../shared/protocol.js';
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
  /**
   * What a visitor may choose (topics, locale), sent with the registration: merged over
   * the attributes the browser keeps (the keys given here win on every load). Leave it
   * out to keep what the visitor chose with `setAttributes`. Default none.
   */
  attributes?: Attributes | undefined;
  /** Generate a seal key and register it, so the backend can seal payloads end to end. Default false. */
  sealed?: boolean | undefined;
  /**
   * Register the visitor's time zone and language (`Intl`'s `timeZone`, `navigator.language`)
   * as the attributes `timeZone` and `language`, for local-time sends, quiet hours and
   * languages. `attributes` of the same names win. Default true.
   */
  localeAttributes?: boolean | undefined;
  /** ms before a backend request is abandoned and retried, and before a silent worker counts as missing. Default 10000. */
  timeout?: number | undefined;
}

/** An option's test (run only when it is given), what it must be, and whether it is required. */
type Rule = [ok: (value: never) => unknown, must: string, required?: 1];

// In the order they are checked. The backend path needs its leading slash: a relative one
// would resolve against each page's own URL.
const rules: Record<string, Rule> = {
  vapidPublicKey: [fromP256Key, 'be a 65-byte P-256 public key, base64url', 1],
  backend: [
    (backend: BackendAdapter | string) =>
      typeof backend == 'string'
        ? /^(\/|https?:\/\/)/i.test(backend)
        : typeof backend.register == 'function' && typeof backend.unregister == 'function',
    'start with / or be an absolute URL, or be {register, unregister}',
    1,
  ],
  headers: [(headers) => /^(object|function)$/.test(typeof headers), 'be an object or a function'],
  serviceWorker: [
    (worker: string | { pushManager?: unknown }) => (typeof worker == 'string' ? worker : worker.pushManager),
    'be a script URL or a registration',
  ],
  scope: [(scope) => typeof scope == 'string', 'be a string'],
  registerServiceWorker: [(when: string) => /^(load|subscribe)$/.test(when), "be 'load' or 'subscribe'"],
  attributes: [flatAttributes, 'be a flat object of strings, numbers and booleans'],
  sealed: [(sealed) => typeof sealed == 'boolean', 'be a boolean'],
  localeAttributes: [(locale) => typeof locale == 'boolean', 'be a boolean'],
  timeout: [(ms: number) => Number.isFinite(ms) && ms > 0, 'be a number of ms above 0'],
};

/**
 * Checks `options` and answers the VAPID key's bytes. Throws TidingsError
 * `invalid-option` naming the first bad option in `details.option` and saying why in
 * `details.reason`: `missing`, or what it must be.
 */
export function checkOptions(options: PushClientOptions): Uint8Array<ArrayBuffer> {
  for (const option in rules) check(option, (options as unknown as Record<string, never> | undefined)?.[option] as never);
  return fromP256Key(options.vapidPublicKey)!;
}

/** Attributes are a flat object of strings, finite numbers and booleans. */
export function checkAttributes(attributes: unknown): void {
  check('attributes', attributes as never);
}

function flatAttributes(attributes: object): boolean {
  return (
    typeof attributes == 'object' &&
    !Array.isArray(attributes) &&
    Object.values(attributes).every((value) => ['string', 'boolean'].includes(typeof value) || Number.isFinite(value))
  );
}

/**
 * Throws `invalid-option` for `option` unless its rule passes: reason `missing` when a
 * required option is absent (or ''), else what it must be. An absent optional one is fine.
 */
function check(option: string, value: never): void {
  const [ok, must, required] = rules[option]!;
  const missing = value == null || (required && value === '');
  if (missing ? required : !ok(value))
    throw new TidingsError('invalid-option', { option, reason: missing ? 'missing' : 'must ' + must });
}
