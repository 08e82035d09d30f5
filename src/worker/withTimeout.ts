import { TidingsError } from '../shared/TidingsError.js';

/** Settles like `promise`, or rejects with TidingsError 'handler-failed' (reason 'timeout') after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    // The error is made only when it is thrown: every push starts several of these.
    timer = setTimeout(() => reject(new TidingsError('handler-failed', { reason: 'timeout' })), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
