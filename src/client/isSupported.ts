/**
 * True when this page can use web push: a secure context with service workers, the Push
 * API and notifications, and not an iOS browser tab (iOS allows push only in web apps
 * added to the Home Screen). Synchronous and never throws, so it is safe at load.
 */
export function isSupported(): boolean {
  try {
    return (
      window.isSecureContext === true &&
      'serviceWorker' in navigator &&
      'PushManager' in window &&
      'Notification' in window &&
      !homeScreenRequired()
    );
  } catch {
    return false;
  }
}

/** True on iOS and iPadOS (which says it is a Mac) outside a Home Screen web app. */
export function homeScreenRequired(): boolean {
  return (
    /iP(hone|ad|od)|Macintosh/.test(navigator.userAgent) &&
    navigator.maxTouchPoints > 1 &&
    !(navigator as { standalone?: boolean }).standalone &&
    !matchMedia('(display-mode: standalone)').matches
  );
}
