import { MESSAGE_SOURCE, NOTIFICATION_MARKER, type NotificationClickMessage, type NotificationMark } from '../shared/protocol.js';
import { allowedUrl } from './allowedUrl.js';
import { windowClients } from './windowClients.js';
import type { WorkerContext } from './WorkerContext.js';

declare const self: ServiceWorkerGlobalScope;

/** The tidings mark on a notification, or undefined for notifications tidings did not show. */
export function markOf(notification: Notification): NotificationMark | undefined {
  return (notification.data as Record<string, NotificationMark> | null)?.[NOTIFICATION_MARKER];
}

/** What identifies a notification between its click and its close: its message id, else its tag. */
export const clickedKey = (notification: Notification, mark: NotificationMark): string | undefined => mark.messageId ?? notification.tag;

/**
 * Opens what a tidings notification points at. Other notifications are left to the
 * site's own listeners (tidings never stops propagation). The URL is the clicked
 * action's, else the notification's, else the scope; a refused URL opens the scope and
 * records `failed` ('url-refused'). A tab already on the URL is focused, else a
 * same-origin tab is navigated and focused, else a window is opened, else (a tab the
 * worker does not control, and no window allowed) the site's tab is focused; the tab is
 * told of the click. A click that ends with no window focused or opened records `failed`
 * naming each step that failed and the browser's error (`openWindow: InvalidAccessError:
 * Not allowed to open a window.`).
 */
export function handleNotificationClick(w: WorkerContext, event: NotificationEvent): void {
  const { notification, action } = event;
  const mark = markOf(notification);
  if (!mark) return;
  w.clicked.add(clickedKey(notification, mark));
  notification.close();
  w.run(
    event,
    async () => {
      const scope = self.registration.scope;
      // Own entries only: an action named `constructor` must not find Object's.
      const wanted = (action && mark.actions && Object.hasOwn(mark.actions, action) && mark.actions[action]) || mark.url;
      let url = wanted ? allowedUrl(w.options, wanted) : scope;
      if (!url) {
        url = scope;
        await w.fail('url-refused', mark.messageId);
      }
      const windows = await windowClients();
      const open = windows.find((client) => client.url === url);
      const same = url.startsWith(self.location.origin + '/') ? windows[0] : undefined;
      // Each step that fails is named with the browser's error, for the `failed` reason.
      const errors: string[] = [];
      const step = <T>(name: string, task: () => Promise<T>): Promise<T | undefined> =>
        task().catch((error) => void errors.push(name + ': ' + error));
      let client = open ?? (same && (await step('navigate', () => same.navigate(url))));
      let failures = errors.length;
      // (openWindow answers null for a window of another origin: opened all the same.)
      let shown = await (client ? step('focus', () => client!.focus()) : step('openWindow', () => self.clients.openWindow(url)));
      // A tab the worker does not control (a worker that does not claim its clients) cannot
      // be navigated; where no window may open either, bring the site's tab forward.
      if (errors.length > failures && !client && same) {
        failures = errors.length;
        shown = await step('focus', () => same.focus());
      }
      // The last step failed: no window came forward.
      if (errors.length > failures) await w.fail(errors.join('; '), mark.messageId);
      client = shown ?? client;
      const message: NotificationClickMessage = {
        source: MESSAGE_SOURCE,
        kind: 'notification-click',
        action,
        messageId: mark.messageId,
        url,
        data: (notification.data as { data?: NotificationClickMessage['data'] }).data,
      };
      client?.postMessage(message);
      if (mark.analytics) void w.outbox.record('clicked', mark.messageId, action ? { action } : undefined);
      await w.call('notificationDidClick', { notification, action, url, client: client ?? null, messageId: mark.messageId });
    },
    mark.messageId,
  );
}
