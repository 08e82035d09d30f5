import { MAX_PLAINTEXT_BYTES } from '../../shared/protocol.js';

/**
 * The payload of a push, marked as a delivery that may repeat an earlier one of the same
 * message (`"retry": true`, protocol.ts): the worker then reads the ids it has seen before
 * it shows anything, instead of showing at once. Any payload the sender makes can be
 * marked (plain, the outer envelope of a sealed one, a `fetch` pointer, declarative JSON),
 * since each is a JSON object. A payload the mark would take over the Web Push limit goes
 * unmarked: the worker then shows it at once, under its id as tag, so a repeat replaces
 * the first rather than standing beside it, and runs and counts nothing twice.
 */
export function markRetry(payload: string): string {
  const marked = JSON.stringify({ ...(JSON.parse(payload) as object), retry: true });
  return Buffer.byteLength(marked, 'utf8') <= MAX_PLAINTEXT_BYTES ? marked : payload;
}
