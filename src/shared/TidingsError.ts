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

/** The one error class of tidings. `code` says what went wrong; `details` says where. */
export class TidingsError extends Error {
  override readonly name = 'TidingsError';
  readonly code: TidingsErrorCode;
  readonly details: TidingsErrorDetails;

  constructor(code: TidingsErrorCode, details: TidingsErrorDetails = {}, message?: string) {
    super(message ?? describe(code, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.details = details;
  }
}

// The message names the code, not its sentence from errorMessages: the sentences would
// cost the page bundle about 0.4 KB brotli of its 3 KB budget, and the code is what a
// reader looks up (docs, errorMessages).
function describe(code: TidingsErrorCode, details: TidingsErrorDetails): string {
  const where = details.option ?? details.field;
  const parts: string[] = [code];
  if (where) parts.push(`(${where})`);
  if (details.status !== undefined) parts.push(`[HTTP ${details.status}]`);
  if (details.reason) parts.push(`: ${details.reason}`);
  return parts.join(' ');
}

/** True when `value` is a TidingsError, optionally of one code. Works across realms. */
export function isTidingsError(value: unknown, code?: TidingsErrorCode): value is TidingsError {
  return (
    value instanceof Error &&
    value.name === 'TidingsError' &&
    (code === undefined || (value as TidingsError).code === code)
  );
}
