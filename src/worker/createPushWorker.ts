import { SYNC_TAG } from './createOutbox.js';
import { handleMessage } from './handleMessage.js';
import { handleNotificationClick } from './handleNotificationClick.js';
import { handleNotificationClose } from './handleNotificationClose.js';
import { handlePush } from './handlePush.js';
import { handleSubscriptionChange } from './handleSubscriptionChange.js';
import { check, resolveOptions } from './resolveOptions.js';
import type { PushHandler, PushWorker, PushWorkerOptions } from './types.js';
import { createWorkerContext } from './WorkerContext.js';

declare const self: ServiceWorkerGlobalScope;

/**
 * Creates the service-worker half of tidings. Options are checked now (TidingsError
 * 'invalid-option'); nothing else happens until `listen()` or a `handle*` call: no
 * listener is added and no storage is opened.
 */
export function createPushWorker(options?: PushWorkerOptions): PushWorker {
  const w = createWorkerContext(resolveOptions(options));
  let listening = false;
  // Methods are closures, so `self.addEventListener('push', worker.handlePush)` works unbound.
  const worker: PushWorker = {
    listen() {
      if (!listening) {
        listening = true;
        const on = self.addEventListener.bind(self) as (type: string, listener: (event: never) => void) => void;
        on('push', worker.handlePush);
        // WebKit's name for the push event of a mutable declarative message.
        on('pushnotification', worker.handlePush);
        on('notificationclick', worker.handleNotificationClick);
        on('notificationclose', worker.handleNotificationClose);
        on('pushsubscriptionchange', worker.handleSubscriptionChange);
        on('message', worker.handleMessage);
        on('sync', (event: ExtendableEvent & { tag: string }) => {
          // Rejects while events are left, so the browser tries the sync again later.
          if (event.tag === SYNC_TAG) event.waitUntil(w.flush(true));
        });
        // Opened while the worker starts, so what needs it first waits less: a sealed
        // push's key, a retried push's seen ids. What is read waits for the push to show.
        void w.db();
      }
      return worker;
    },
    handlePush: (event) => handlePush(w, event),
    handleNotificationClick: (event) => handleNotificationClick(w, event),
    handleNotificationClose: (event) => handleNotificationClose(w, event),
    handleSubscriptionChange: (event) => handleSubscriptionChange(w, event),
    handleMessage: (event) => handleMessage(w, event),
    on(type, handler) {
      check(typeof type === 'string' && type, 'type');
      check(typeof handler === 'function' || typeof handler?.handle === 'function', 'handler');
      // Stored untyped: the Data each handler was registered with is the site's promise.
      w.handlers.set(type, handler as PushHandler);
      return worker;
    },
    use(hooks) {
      check(typeof hooks === 'object' && hooks, 'hooks');
      w.hooks.push(hooks);
      return worker;
    },
  };
  return worker;
}
