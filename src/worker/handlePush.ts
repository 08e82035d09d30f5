import { NOTIFICATION_MARKER, type Envelope } from '../shared/protocol.js';
import type { TidingsError } from '../shared/TidingsError.js';
import { guardMessage, isStale } from './guardMessage.js';
import { readPush } from './readPush.js';
import { resolveEnvelope } from './resolveEnvelope.js';
import { notifiesEveryPush } from './notifiesEveryPush.js';
import { routeEnvelope } from './routeEnvelope.js';
import { shownByBrowser } from './shownByBrowser.js';
import { isForeground, windowClients } from './windowClients.js';
import type { WorkerContext } from './WorkerContext.js';

/**
 * The push pipeline: decode, (unseal, fetch), guard, route, then make sure something is
 * visible, then flush the outbox, all inside `waitUntil` (see WorkerContext.run).
 * Nothing escapes: every failure becomes a `failed` event. With `ignoreForeign`, a push that is not a tidings envelope
 * is left to the worker's other listeners before `waitUntil` is called.
 */
export function handlePush(w: WorkerContext, event: PushEvent): void {
  let first: Envelope | TidingsError;
  try {
    first = readPush(event.data);
  } catch (error) {
    // A foreign push, or a notification the browser showed with no payload to read
    // (nothing here says WebKit's pushnotification carries `data`): nothing owed.
    if (w.options.ignoreForeign || (!event.data && shownByBrowser(event))) return;
    first = error as TidingsError;
  }
  w.run(event, () => runPush(w, event, first));
}

async function runPush(w: WorkerContext, event: PushEvent, first: Envelope | TidingsError): Promise<void> {
  let envelope: Envelope | undefined;
  // A declarative notification the browser shows itself already counts.
  let shown = shownByBrowser(event);
  let skipped: string | undefined;
  // A tab of the site in front got the push itself (`foreground`), so nothing more is owed.
  let reachedTab = false;
  try {
    if (first instanceof Error) throw first;
    // A stale pointer or sealed envelope is not followed: what it points to may be gone,
    // and the guard below skips it all the same. (A replay is only known once opened.)
    envelope = isStale(first) ? first : await resolveEnvelope(w, first);
    skipped = await guardMessage(w, envelope, event);
    // Asked once the notification is up (Notifier.settled), and awaited only where the
    // answer matters (`foreground` 'message', which shows nothing before it).
    const windows = w.notifier.settled().then(windowClients).catch(() => []);
    // A replay was counted as delivered the first time.
    if (envelope.analytics !== false && skipped !== 'replayed') void w.outbox.record('delivered', envelope.id);
    if (skipped) await w.fail(skipped, envelope.id);
    else {
      shown = (await routeEnvelope(w, event, envelope, windows)) || shown;
      reachedTab = (await windows).some(isForeground);
    }
  } catch (error) {
    await w.fail(error, envelope?.id ?? (first as Envelope).id);
  }
  try {
    // Chrome shows its own "updated in the background" notice when a push shows nothing,
    // unless a tab is in front; Safari revokes the permission, tab or not. Bad input gets
    // the default too (DESIGN.md, "Bad input"); elsewhere a replay or a stale message
    // needs nothing new if a tidings notification is already up.
    if (
      !shown &&
      (notifiesEveryPush() || (!reachedTab && !(skipped && (await w.notifier.anyVisible().catch(() => false)))))
    ) {
      const { title, ...options } = w.options.defaultNotification;
      await w.notifier.show(title, {
        tag: 'tidings',
        ...options,
        data: { [NOTIFICATION_MARKER]: { messageId: envelope?.id, analytics: envelope?.analytics !== false } },
      });
    }
  } catch (error) {
    await w.fail(error, envelope?.id);
  }
}
