import { TidingsError } from '../shared/TidingsError.js';
import { parseEnvelope } from '../shared/validateEnvelope.js';
import type { Envelope } from '../shared/protocol.js';

/**
 * Decodes a push payload: bytes, strict UTF-8, JSON, then the shared validator. Throws
 * only TidingsError 'invalid-envelope' with details.reason ('empty', 'utf8', 'json', ...).
 * Synchronous, so `ignoreForeign` can leave a foreign push before `waitUntil` is called.
 */
export function readPush(data: PushMessageData | null): Envelope {
  return parseEnvelope(utf8(data?.arrayBuffer() ?? new ArrayBuffer(0)));
}

/** Strict UTF-8: `PushMessageData.text()` would turn bad bytes into U+FFFD and carry on. */
export function utf8(bytes: BufferSource): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TidingsError('invalid-envelope', { reason: 'utf8' });
  }
}
