import { NOTIFICATION_MARKER } from '../shared/protocol.js';
import { nextTask } from './nextTask.js';

declare const self: ServiceWorkerGlobalScope;

export interface Notifier {
  show(title: string, options: NotificationOptions): Promise<void>;
  /** True when a tidings notification is showing, or about to be. */
  anyVisible(): Promise<boolean>;
  /** The tidings notifications showing (`id`: those of one message), once no show is in progress. */
  list(id?: string): Promise<Notification[]>;
  /**
   * Resolves in a later task once no notification is being shown (or after 1 s): the
   * worker's IndexedDB writes and client lookups wait for it, since the browser serves
   * them before a notification asked for meanwhile (cold start trace, bench/coldTrace.mjs).
   */
  settled(): Promise<void>;
}

/**
 * The one door to showNotification/getNotifications. Chromium drops a notification for
 * good when notifications are listed while it is being shown, so the two never overlap:
 * a list waits for the shows in progress, and a show waits for a list in progress.
 */
export function createNotifier(): Notifier {
  let showing = 0;
  let listing: Promise<unknown> | undefined;
  let waiters: (() => void)[] = [];
  const list = async (id?: string) => {
    while (showing) await new Promise<void>((wake) => waiters.push(wake));
    const all = self.registration.getNotifications();
    listing = all.catch(() => undefined);
    return (await all).filter((notification) => {
      const mark = notification.data?.[NOTIFICATION_MARKER];
      return mark && (id === undefined || mark.messageId == id);
    });
  };
  return {
    async show(title, options) {
      showing++;
      try {
        await listing;
        await self.registration.showNotification(title, options);
      } finally {
        if (!--showing) for (const wake of waiters.splice(0)) wake();
      }
    },
    async settled() {
      await nextTask();
      if (showing) await Promise.race([new Promise<void>((wake) => waiters.push(wake)), nextTask(1000)]);
    },
    // While a show runs, one is about to be visible: no need to list.
    anyVisible: async () => !!showing || (await list()).length > 0,
    list,
  };
}
