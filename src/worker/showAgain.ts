import type { Envelope } from '../shared/protocol.js';
import { ALLOWED, showEnvelopeNotification } from './showEnvelopeNotification.js';
import type { WorkerContext } from './WorkerContext.js';

/**
 * What a replay shows where every push must show something (Safari, notifiesEveryPush):
 * the message's notification again, silently, instead of a default beside it. What is up
 * for it (under the envelope's tag, which a newer message may have taken, else by its id)
 * is shown again as it is, so nothing changes on screen, and the copies before it are
 * closed: WebKit keeps a notification that another with its tag should replace (WebKitGTK
 * lists both), and closes one by its own id, never its tag. When the user closed it, it
 * comes back from the envelope, silent: Safari insists on a notification, and the
 * message's own (which the user can act on) says more than a generic default. Resolves
 * false when there is nothing to show again (no notification in the envelope): the
 * caller shows the default, as the first delivery did.
 */
export async function showAgain(w: WorkerContext, envelope: Envelope): Promise<boolean> {
  const tag = envelope.notification?.tag;
  const up = tag ? (await w.notifier.list()).filter((n) => n.tag == tag) : await w.notifier.list(envelope.id);
  const last = up.at(-1) as (Notification & Record<string, unknown>) | undefined;
  if (!last) return !!envelope.notification && showEnvelopeNotification(w, envelope, 'replayed');
  // Copied field by field: a Notification's fields are getters, which spreading skips.
  // (WebKit's notifications have no actions.)
  const options: Record<string, unknown> = { data: last.data };
  for (const key of ALLOWED) options[key] = last[key] || undefined;
  await w.notifier.show(last.title, { ...options, silent: true });
  for (const old of up) old.close();
  return true;
}
