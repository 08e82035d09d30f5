/**
 * True when this page can use web push: a secure context with service workers, the Push
 * API and notifications. Synchronous and never throws, so it is safe at load.
 */
export function isSupported(): boolean {
  try {
    return (
      typeof window !== 'undefined' &&
      window.isSecureContext === true &&
      'serviceWorker' in navigator &&
      'PushManager' in window &&
      'Notification' in window
    );
  } catch {
    return false;
  }
}
