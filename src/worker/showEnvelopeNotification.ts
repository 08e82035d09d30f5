import { NOTIFICATION_MARKER, type Envelope, type NotificationMark } from '../shared/protocol.js';
import type { NotificationDraft } from './types.js';
import type { WorkerContext } from './WorkerContext.js';
import type { Skipped } from './guardMessage.js';

declare const self: ServiceWorkerGlobalScope;

/** The envelope fields that reach showNotification as they are; nothing else passes. */
export const ALLOWED = ['body', 'icon', 'badge', 'image', 'tag', 'requireInteraction', 'silent', 'lang', 'dir', 'timestamp'] as const;

/**
 * The notification handler: builds the options from an allowlist of envelope fields
 * (nothing else passes), caps actions at `Notification.maxActions` where
 * the browser has it, marks the notification as tidings' own, lets `notificationWillShow`
 * hooks edit or cancel it, and shows it. Once `guard` let the message through, records
 * `shown` and calls `notificationDidShow`; a replay that must show something anyway
 * (guard 'replayed', see showAgain) is shown silently. Resolves true when it was shown.
 */
export async function showEnvelopeNotification(
  w: WorkerContext,
  envelope: Envelope,
  guard: Promise<Skipped> | 'replayed',
): Promise<boolean> {
  const n = envelope.notification!;
  const max = (self as { Notification?: { maxActions?: number } }).Notification?.maxActions;
  const actions = n.actions?.slice(0, max);
  const mark: NotificationMark = {
    messageId: envelope.id,
    url: n.url,
    actions: actions && Object.fromEntries(actions.filter((a) => a.url).map((a) => [a.action, a.url!])),
    analytics: envelope.analytics !== false,
  };
  const options: NotificationDraft['options'] = {
    // Chrome throws for renotify without a tag.
    renotify: !!(n.renotify && n.tag),
    actions: actions?.map(({ action, title, icon }) => ({ action, title, icon })),
    data: { [NOTIFICATION_MARKER]: mark, data: n.data },
  };
  for (const key of ALLOWED) if (n[key] !== undefined) (options as Record<string, unknown>)[key] = n[key];
  if (guard == 'replayed') options.silent = true;
  let draft: NotificationDraft = { title: n.title ?? w.options.defaultNotification.title, options, envelope };
  const answer = await w.call('notificationWillShow', draft);
  if (answer === false) return false;
  if (answer) draft = answer as NotificationDraft;
  await w.notifier.show(draft.title, draft.options);
  if (!(await guard)) {
    if (mark.analytics) void w.outbox.record('shown', envelope.id);
    await w.call('notificationDidShow', draft);
  }
  return true;
}
