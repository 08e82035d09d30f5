import { MESSAGE_SOURCE, NOTIFICATION_MARKER, type Envelope, type PushDataMessage } from '../shared/protocol.js';
import { cacheUrls } from './cacheUrls.js';
import { notifiesEveryPush } from './notifiesEveryPush.js';
import { setAppBadge } from './setAppBadge.js';
import { shownByBrowser } from './shownByBrowser.js';
import { showEnvelopeNotification } from './showEnvelopeNotification.js';
import type { PushContext } from './types.js';
import { isForeground } from './windowClients.js';
import type { WorkerContext } from './WorkerContext.js';
import type { Skipped } from './guardMessage.js';
import { withTimeout } from './withTimeout.js';

/**
 * Sends an envelope to every handler it names, at once: `notification` (subject to
 * `foreground`, except where every push must notify), `appBadge`, `cache`, the `on(type)`
 * handler, and `data` to the site's open tabs. A declarative notification the browser
 * shows itself is not shown again, and its badge is the browser's to set.
 * Nothing runs for a message the guard stops, so a repeat runs no handler twice and
 * counts nothing twice; only the notification of a first delivery (not `wait`) goes
 * before the guard has spoken (a repeat of it replaces itself, under its tag).
 * Each is bounded by the timeout; one failing is recorded and does not stop the others.
 * Resolves true when a notification was shown.
 */
export async function routeEnvelope(
  w: WorkerContext,
  event: PushEvent,
  envelope: Envelope,
  windows: Promise<WindowClient[]>,
  guard: Promise<Skipped>,
  wait?: boolean,
): Promise<boolean> {
  let shown = false;
  const foreground = windows.then((list) => (list.some(isForeground) ? w.options.foreground : undefined));
  const { notification, type, data, appBadge } = envelope;
  const analytics = envelope.analytics !== false;
  const byBrowser = shownByBrowser(event);
  const handler = type === undefined ? undefined : w.handlers.get(type);
  const context: PushContext = {
    envelope,
    event,
    showNotification: async (title, options) => {
      const mark = { messageId: envelope.id, analytics };
      await w.notifier.show(title, { ...options, data: { [NOTIFICATION_MARKER]: mark, data: options?.data } });
      shown = true;
      if (analytics) void w.outbox.record('shown', envelope.id);
    },
  };
  const message: PushDataMessage = { source: MESSAGE_SOURCE, kind: 'push-data', data, envelope };
  const tasks = [
    notification &&
      (async () => {
        if (byBrowser) {
          shown = true;
          if (analytics && !(await guard)) void w.outbox.record('shown', envelope.id);
        } else if (w.options.foreground !== 'message' || notifiesEveryPush() || !(await foreground)) {
          shown = (await showEnvelopeNotification(w, envelope, guard)) || shown;
        }
      }),
    appBadge !== undefined && !byBrowser && (() => setAppBadge(appBadge)),
    envelope.cache && (() => cacheUrls(w, envelope)),
    handler && (() => (typeof handler === 'function' ? handler(data, context) : handler.handle(data, context))),
    async () => {
      const front = await foreground;
      if (data !== undefined || (notification && front && front !== 'notify')) {
        for (const client of await windows) client.postMessage(message);
      }
    },
  ];
  await Promise.all(
    tasks.map(
      (task, i) =>
        task &&
        withTimeout(
          // The first task, the notification, waits only when told to.
          Promise.resolve((i || wait) && guard).then((skipped) => skipped || task()),
          w.options.timeout,
        ).catch((error) => w.fail(error, envelope.id)),
    ),
  );
  return shown;
}
