import { createPushClient } from './createPushClient.js';
import type { PushClient } from './PushClient.js';

/**
 * The script-tag drop-in: creates a client from the tag's `data-vapid-public-key`,
 * `data-backend` (default `/api/push`), `data-service-worker` (default `/sw.js`) and
 * `data-register-service-worker` (`load` or `subscribe`, the default), and
 * makes every element with `data-tidings-subscribe` / `data-tidings-unsubscribe`, now or
 * added later, do that when clicked. Without `data-vapid-public-key` it does nothing.
 */
export function autoInit(script: HTMLOrSVGScriptElement | null): PushClient | undefined {
  const data = script?.dataset;
  if (!data?.vapidPublicKey) return undefined;
  try {
    const client = createPushClient({
      vapidPublicKey: data.vapidPublicKey,
      backend: data.backend ?? '/api/push',
      serviceWorker: data.serviceWorker,
      registerServiceWorker: data.registerServiceWorker as 'load' | undefined,
    });
    document.addEventListener('click', (event) => {
      const target = (event.target as Element).closest?.('[data-tidings-subscribe],[data-tidings-unsubscribe]');
      if (!target) return;
      event.preventDefault();
      // Called inside the click, so the permission prompt has its user gesture.
      (target.hasAttribute('data-tidings-subscribe') ? client.subscribe() : client.unsubscribe()).catch(console.error);
    });
    return client;
  } catch (error) {
    // A bad attribute must not break the page, nor leave window.Tidings unset.
    console.error(error);
    return undefined;
  }
}
