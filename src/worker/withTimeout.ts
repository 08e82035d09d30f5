import { TidingsError } from '../shared/TidingsError.js';

/** Settles like `promise`, or rejects with TidingsError 'handler-failed' (reason 'timeout') after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(reject, ms, new TidingsError('handler-failed', { reason: 'timeout' }));
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
