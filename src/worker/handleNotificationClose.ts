import { markOf } from './handleNotificationClick.js';
import type { WorkerContext } from './WorkerContext.js';

/** Records `closed` for a tidings notification the user dismissed; others are left alone. */
export function handleNotificationClose(w: WorkerContext, event: NotificationEvent): void {
  const mark = markOf(event.notification);
  if (!mark) return;
  w.run(event, async () => {
    if (mark.analytics) void w.outbox.record('closed', mark.messageId);
    await w.call('notificationDidClose', event.notification);
  });
}
