import { isTidingsError, TidingsError } from '../../../shared/TidingsError.js';
import type { TransportFailure } from './Transport.js';

/** TidingsError `send-failed` with a TransportFailure reason. */
export function transportFailure(reason: TransportFailure, details: Record<string, unknown> = {}): TidingsError {
  return new TidingsError('send-failed', { reason, ...details });
}

/**
 * What a Node network error means to the sender: the lookup's own TidingsErrors (`address`,
 * `dns`) as they are, HTTP/2's "not processed" signals as `unprocessed`, anything else
 * `network`, keeping the error's message.
 */
export function toTransportFailure(error: unknown): TidingsError {
  if (isTidingsError(error, 'send-failed')) return error;
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_STREAM_CANCEL') return transportFailure('unprocessed', { code, cause: error });
  return transportFailure('network', { message: String(message ?? error), ...(code === undefined ? {} : { code }), cause: error });
}
