import { UsageError } from './UsageError.js';

/**
 * A system error met while starting (a port in use or not allowed, a data directory that
 * cannot be made) as a UsageError: the flag's value is what cannot be used, and Node's own
 * message says which and why in one line (`listen EADDRINUSE: address already in use
 * 127.0.0.1:4800`); so does a TidingsError (the push service's `push-service`). Anything
 * else is rethrown as it is.
 */
export function startupError(error: unknown): never {
  const { name, code, syscall, message } = (error ?? {}) as { name?: unknown; code?: unknown; syscall?: unknown; message?: unknown };
  const system = typeof code === 'string' && typeof syscall === 'string';
  if ((system || name === 'TidingsError') && typeof message === 'string') throw new UsageError(message);
  throw error;
}
