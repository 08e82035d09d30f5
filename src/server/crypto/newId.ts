import { randomBytes } from 'node:crypto';

/**
 * 128 random bits, base64url. Subscription ids and fetch URLs are capabilities (whoever
 * knows one may delete or read), so they must not be guessable.
 */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}

/** A message id that sorts by time (like a ULID), for envelopes sent without one. */
export function newMessageId(now = Date.now()): string {
  return now.toString(36).padStart(9, '0') + randomBytes(10).toString('base64url');
}
