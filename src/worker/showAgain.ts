import type { Envelope } from '../shared/protocol.js';
import { ALLOWED, showEnvelopeNotification } from './showEnvelopeNotification.js';
import type { WorkerContext } from './WorkerContext.js';

/**
 * What a replay shows where every push must show something (Safari, notifiesEveryPush):
 * the message's notification again, silently, under its tag, so it replaces itself
 * instead of standing beside a default. What is up under that tag (this message, or a
 * newer one that took the tag) is shown again as it is, so nothing changes on screen.
 * When the user closed it, it comes back from the envelope, silent: Safari insists on a
 * notification, and the message's own (which the user can act on, and which a later copy
 * again replaces) says more than a generic default. Resolves false when there is nothing
 * to show again (no notification in the envelope): the caller shows the default, as the
 * first delivery did.
 */
export async function showAgain(w: WorkerContext, envelope: Envelope): Promise<boolean> {
  const tag = envelope.notification?.tag ?? envelope.id;
  const up = (await w.notifier.list()).find((n) => n.tag == tag);
  if (!up) return !!envelope.notification && showEnvelopeNotification(w, envelope, 'replayed');
  // Copied field by field: a Notification's fields are getters, which spreading skips.
  // (WebKit's notifications have no actions.)
  const options: Record<string, unknown> = { data: up.data };
  for (const key of ALLOWED) options[key] = (up as unknown as Record<string, unknown>)[key] || undefined;
  await w.notifier.show(up.title, { ...options, silent: true });
  return true;
}
