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
  /** Base URL of the backend HTTP contract (e.g. `'/api/push'`), or `{register, unregister}` functions. Required. */
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
 * `invalid-option` naming the first bad option.
 */
export function checkOptions(options: PushClientOptions): Uint8Array<ArrayBuffer> {
  const { vapidPublicKey, serviceWorker, scope, backend, headers, attributes, sealed, timeout } = options ?? {};
  const key = fromP256Key(vapidPublicKey);
  if (!key) invalid('vapidPublicKey');
  if (typeof backend !== 'string' && !(typeof backend?.register == 'function' && typeof backend.unregister == 'function'))
    invalid('backend');
  if (headers != null && !/^(object|function)$/.test(typeof headers)) invalid('headers');
  if (serviceWorker != null && typeof serviceWorker !== 'string' && !(serviceWorker as { pushManager?: unknown }).pushManager)
    invalid('serviceWorker');
  if (scope != null && typeof scope !== 'string') invalid('scope');
  checkAttributes(attributes);
  if (sealed != null && typeof sealed !== 'boolean') invalid('sealed');
  if (timeout != null && !(timeout > 0)) invalid('timeout');
  return key!;
}

/** Attributes are a flat object of strings, finite numbers and booleans. */
export function checkAttributes(attributes: unknown): void {
  if (attributes == null) return;
  if (typeof attributes !== 'object' || Array.isArray(attributes)) invalid('attributes');
  for (const value of Object.values(attributes as object))
    if (!['string', 'boolean'].includes(typeof value) && !Number.isFinite(value)) invalid('attributes');
}

function invalid(option: string): never {
  throw new TidingsError('invalid-option', { option });
}
