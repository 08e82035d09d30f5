import { TidingsError } from '../../shared/TidingsError.js';

/** Throws the `invalid-request` error the handler answers 400 with, naming the field and why. */
export function fail(field: string, reason: string): never {
  throw new TidingsError('invalid-request', { field, reason });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
