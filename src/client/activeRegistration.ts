import { TidingsError } from '../shared/TidingsError.js';

/**
 * Registers the service worker (or takes the site's registration) and waits until it has
 * an active worker, which `pushManager.subscribe()` needs. Rejects with `worker-failed`
 * when registration fails or the worker goes redundant (a failed install), instead of
 * waiting for ever.
 */
export async function activeRegistration(
  worker: string | ServiceWorkerRegistration,
  scope: string | undefined,
): Promise<ServiceWorkerRegistration> {
  const registration =
    typeof worker == 'string'
      ? await navigator.serviceWorker.register(worker, { scope }).catch((cause: unknown) => {
          throw new TidingsError('worker-failed', { cause, reason: String(cause) });
        })
      : worker;
  const incoming = registration.installing ?? registration.waiting;
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (registration.active) resolve();
      else if (!/install/.test(incoming?.state!)) reject(new TidingsError('worker-failed', { reason: incoming?.state }));
    };
    incoming?.addEventListener('statechange', check);
    check();
  });
  return registration;
}
