import { clickedKey, markOf } from './handleNotificationClick.js';
import type { WorkerContext } from './WorkerContext.js';

/**
 * Records `closed` for a tidings notification the user dismissed; others are left alone.
 * Firefox fires `notificationclose` after `notificationclick` too, when the clicked
 * notification goes away: a click is no dismissal, so that close records nothing and
 * tells no hook. Only this worker's memory knows of the click: a worker the browser
 * stopped between the two (rare: Firefox fires both within a moment) records the close,
 * and the backend's stores refuse a `closed` for a (message, subscription) that was
 * counted as clicked (see SubscriptionStore.recordEvents), so the figures stay true.
 */
export function handleNotificationClose(w: WorkerContext, event: NotificationEvent): void {
  const mark = markOf(event.notification);
  if (!mark || w.clicked.delete(clickedKey(event.notification, mark))) return;
  w.run(event, async () => {
    if (mark.analytics) void w.outbox.record('closed', mark.messageId);
    await w.call('notificationDidClose', event.notification);
  });
}
