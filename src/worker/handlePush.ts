import { NOTIFICATION_MARKER, type Envelope } from '../shared/protocol.js';
import type { TidingsError } from '../shared/TidingsError.js';
import { guardMessage, isStale, type Skipped } from './guardMessage.js';
import { readPush } from './readPush.js';
import { resolveEnvelope } from './resolveEnvelope.js';
import { notifiesEveryPush } from './notifiesEveryPush.js';
import { routeEnvelope } from './routeEnvelope.js';
import { showAgain } from './showAgain.js';
import { shownByBrowser } from './shownByBrowser.js';
import { isForeground, windowClients } from './windowClients.js';
import type { WorkerContext } from './WorkerContext.js';

/**
 * The push pipeline: decode, (unseal, fetch), guard, route (a first delivery's
 * notification goes before the guard has spoken), then make sure something is visible,
 * then flush the outbox, all inside `waitUntil` (see WorkerContext.run). Nothing escapes:
 * every failure becomes a `failed` event. With `ignoreForeign`, a push that is not a
 * tidings envelope is left to the worker's other listeners before `waitUntil` is called.
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
  let skipped: Skipped;
  // A tab of the site in front got the push itself (`foreground`), so nothing more is owed.
  let reachedTab = false;
  try {
    if (first instanceof Error) throw first;
    // A stale pointer or sealed envelope is not followed: what it points to may be gone,
    // and the guard below skips it all the same. (A replay is only known once opened.)
    const routed = (envelope = isStale(first) ? first : await resolveEnvelope(w, first));
    // A first delivery is routed at once: its notification shows without waiting for the
    // seen ids, which are read only once it is up (Notifier.settled: on a cold start the
    // read made before the show delayed it by 1.2-1.5 ms, bench/coldTrace.mjs); the rest
    // of the message waits for the guard. One the sender marked as a possible repeat, or
    // a stale one, waits for the guard before anything (routeEnvelope).
    const wait = first.retry || isStale(routed);
    const guard = Promise.resolve(wait || w.notifier.settled()).then(() => guardMessage(w, routed, event));
    // Asked once the notification is up, and awaited only where the answer matters
    // (`foreground` 'message', which shows nothing before it).
    const windows = w.notifier.settled().then(windowClients).catch(() => []);
    shown = (await routeEnvelope(w, event, routed, windows, guard, wait)) || shown;
    skipped = await guard;
    reachedTab = !skipped && (await windows).some(isForeground);
    if (skipped) await w.fail(skipped, routed.id);
    // A repeat nobody marked was shown before the guard knew: one copy stays on screen.
    // (If the user closed the first, the copy is the one, and stays.)
    if (skipped && shown && !wait) for (const copy of (await w.notifier.list(routed.id)).slice(1)) copy.close();
  } catch (error) {
    await w.fail(error, envelope?.id ?? (first as Envelope).id);
  }
  try {
    // Chrome shows its own "updated in the background" notice when a push shows nothing,
    // unless a tab is in front; Safari revokes the permission, tab or not. Bad input gets
    // the default too (DESIGN.md, "Bad input"); elsewhere a replay or a stale message
    // needs nothing new if a tidings notification is already up.
    const everyPush = notifiesEveryPush();
    if (
      !shown &&
      (everyPush || (!reachedTab && !(skipped && (await w.notifier.anyVisible().catch(() => false))))) &&
      // Safari's replay shows its own notification again (showAgain), not the default beside it.
      !(everyPush && skipped == 'replayed' && (await showAgain(w, envelope!)))
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
