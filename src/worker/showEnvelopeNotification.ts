import { NOTIFICATION_MARKER, type Envelope, type NotificationMark } from '../shared/protocol.js';
import type { NotificationDraft } from './types.js';
import type { WorkerContext } from './WorkerContext.js';

declare const self: ServiceWorkerGlobalScope;

/**
 * The notification handler: builds the options from an allowlist of envelope fields
 * (nothing else passes), caps actions at `Notification.maxActions` where the browser
 * has it, marks the notification as tidings' own, lets `notificationWillShow` hooks edit
 * or cancel it, shows it and records `shown`. Resolves true when it was shown.
 */
export async function showEnvelopeNotification(w: WorkerContext, envelope: Envelope): Promise<boolean> {
  const n = envelope.notification!;
  const max = (self as { Notification?: { maxActions?: number } }).Notification?.maxActions;
  const actions = n.actions?.slice(0, max);
  const mark: NotificationMark = {
    messageId: envelope.id,
    url: n.url,
    actions: actions && Object.fromEntries(actions.filter((a) => a.url).map((a) => [a.action, a.url!])),
    analytics: envelope.analytics !== false,
  };
  let draft: NotificationDraft = {
    title: n.title ?? w.options.defaultNotification.title,
    options: {
      body: n.body,
      icon: n.icon,
      badge: n.badge,
      image: n.image,
      tag: n.tag,
      // Chrome throws for renotify without a tag.
      renotify: !!(n.renotify && n.tag),
      requireInteraction: n.requireInteraction,
      silent: n.silent,
      lang: n.lang,
      dir: n.dir,
      timestamp: n.timestamp,
      actions: actions?.map(({ action, title, icon }) => ({ action, title, icon })),
      data: { [NOTIFICATION_MARKER]: mark, data: n.data },
    },
    envelope,
  };
  const answer = await w.call('notificationWillShow', draft);
  if (answer === false) return false;
  if (answer) draft = answer as NotificationDraft;
  await w.notifier.show(draft.title, draft.options);
  if (mark.analytics) void w.outbox.record('shown', envelope.id);
  await w.call('notificationDidShow', draft);
  return true;
}
