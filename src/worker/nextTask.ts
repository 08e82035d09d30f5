/**
 * Resolves in a later task, `ms` from now. The worker starts its IndexedDB writes after
 * the push's showNotification was requested (see Notifier.settled): IndexedDB requests
 * made before it delay the notification (bench, warm worker: 1.28x the floor with them
 * first, 1.12x after).
 */
export function nextTask(ms?: number): Promise<void> {
  return new Promise((wake) => setTimeout(wake, ms));
}
