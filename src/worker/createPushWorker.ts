import { parseEnvelope } from '../shared/validateEnvelope.js';
import type { Envelope } from '../shared/protocol.js';

declare const self: ServiceWorkerGlobalScope;

/** What a notification looks like when tidings shows one of its own making. */
export interface NotificationSpec {
  title: string;
  body?: string;
  icon?: string;
  badge?: string;
  tag?: string;
}

export interface PushWorkerOptions {
  /** Shown when a push would otherwise show nothing. Default: the site's name, or 'New notification'. */
  defaultNotification?: NotificationSpec;
}

export interface PushWorker {
  /** Adds the tidings event listeners to the service worker scope. */
  listen(): PushWorker;
  /** Handles one push event, for sites that wire their own listeners. */
  handlePush(event: PushEvent): void;
}

/** Creates the service-worker half of tidings. Nothing happens until `listen()` or a `handle*` call. */
export function createPushWorker(options: PushWorkerOptions = {}): PushWorker {
  const worker: PushWorker = {
    listen() {
      self.addEventListener('push', worker.handlePush);
      return worker;
    },
    handlePush(event) {
      event.waitUntil(showFor(event, options));
    },
  };
  return worker;
}

async function showFor(event: PushEvent, options: PushWorkerOptions): Promise<void> {
  let envelope: Envelope | undefined;
  try {
    envelope = parseEnvelope(event.data?.text() ?? '');
  } catch {
    envelope = undefined;
  }
  const shown = envelope?.notification?.title;
  if (shown !== undefined && envelope?.notification) {
    await self.registration.showNotification(shown, { body: envelope.notification.body ?? '' });
    return;
  }
  const fallback = options.defaultNotification ?? { title: 'New notification' };
  await self.registration.showNotification(fallback.title, { body: fallback.body ?? '' });
}
