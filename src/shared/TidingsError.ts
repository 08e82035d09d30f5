/**
 * Every error code tidings can raise, with what it means (for docs and tools; messages
 * carry the code only, see describe). The map is typed, so
 * a misspelt code fails to compile (Workbox's WorkboxError, Serwist's message keys).
 */
export const errorMessages = {
  unsupported: 'Web push is not supported in this browser or context',
  'permission-denied': 'Notification permission was denied',
  'permission-dismissed': 'The notification permission prompt was dismissed',
  'subscribe-failed': 'The browser refused to create a push subscription',
  'backend-failed': 'The backend refused the request',
  'invalid-envelope': 'The push payload is not a valid tidings envelope',
  'unseal-failed': 'The sealed payload could not be opened',
  'fetch-failed': 'The message could not be fetched',
  'handler-failed': 'A push handler threw or timed out',
  'invalid-option': 'An option is invalid',
  'worker-failed': 'The service worker did not become active',
  'storage-failed': 'IndexedDB could not be used',
  'send-failed': 'The push service refused the message',
  'store-failed': 'The subscription store failed',
  'push-service': 'The push service could not be started',
  'invalid-request': 'The request body is invalid',
  'missing-dependency': 'An optional package this feature needs is not installed (or its native part was not built)',
} as const;

export type TidingsErrorCode = keyof typeof errorMessages;

/** Extra facts about an error: the option, field, HTTP status or underlying cause. */
export interface TidingsErrorDetails {
  option?: string;
  field?: string;
  status?: number;
  reason?: string;
  cause?: unknown;
  [key: string]: unknown;
}

/**
 * The one error class of tidings. `code` says what went wrong; `details` says where. The
 * message is the code and the details that locate it (`backend-failed subscription 403`),
 * not a sentence: sentences would cost the bundles bytes, and the code is what a reader
 * looks up (docs, errorMessages).
 */
export class TidingsError extends Error {
  override readonly name = 'TidingsError';

  constructor(
    readonly code: TidingsErrorCode,
    readonly details: TidingsErrorDetails = {},
  ) {
    // `details` doubles as the ErrorOptions: its `cause` becomes the error's cause.
    const where = [code, details.option ?? details.field, details.status, details.reason];
    super(where.filter((part) => part != null).join(' '), details);
  }
}

/** True when `value` is a TidingsError, optionally of one code. Works across realms. */
export function isTidingsError(value: unknown, code?: TidingsErrorCode): value is TidingsError {
  return value instanceof Error && value.name == 'TidingsError' && (!code || (value as TidingsError).code == code);
}
