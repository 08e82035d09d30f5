/** A service worker as Playwright gives it (`context.serviceWorkers()`). */
export interface ServiceWorkerHandle {
  url(): string;
  evaluate(expression: string): Promise<unknown>;
}

/** The Playwright BrowserContext the page runs in. */
export interface ServiceWorkerContext {
  serviceWorkers(): ServiceWorkerHandle[];
  waitForEvent(event: 'serviceworker', options?: { timeout?: number }): Promise<ServiceWorkerHandle>;
}

export interface NotificationClickOptions {
  /** The notification's tag. Default: any tag. */
  tag?: string;
  /** The notification's title. Default: any title. */
  title?: string;
  /** The action button clicked. Default `''`, the notification itself. */
  action?: string;
  /** ms to wait for a service worker to appear in the context. Default 15000. */
  timeout?: number;
}

/** The clicked notification, and the reasons of the worker's `waitUntil` promises that rejected. */
export interface NotificationClickResult {
  title: string;
  tag: string;
  rejected: string[];
}

/**
 * Clicks a notification the service worker showed, in a Chromium test driven by
 * Playwright: headless Chromium has no notification to click, so this finds the shown
 * notification (`registration.getNotifications()`) in the worker and dispatches a
 * `notificationclick` event carrying it to the worker's own listeners, then waits for
 * every promise they passed to `waitUntil`. Rejects when no such notification is shown.
 *
 * A probe, not the user's click: the browser grants no user activation to it, so a
 * worker's `clients.openWindow()` and `client.focus()` are refused (`InvalidAccessError`),
 * while `client.navigate()` of a tab the worker controls works. Call it once the
 * notification is shown (wait for your worker's `shown` event, or its message to the
 * page): listing notifications while one is being shown makes Chromium drop it.
 * The worker code runs from a string, so nothing your test compiler adds (esbuild's
 * `__name`) reaches the worker.
 */
export async function clickNotification(
  context: ServiceWorkerContext,
  options: NotificationClickOptions = {},
): Promise<NotificationClickResult> {
  const { tag, title, action = '', timeout = 15_000 } = options;
  const workers = context.serviceWorkers();
  if (!workers.length) workers.push(await context.waitForEvent('serviceworker', { timeout }));
  const expression = `(async (tag, title, action) => {
  const shown = await self.registration.getNotifications(tag == null ? undefined : { tag });
  const notification = shown.find((n) => title == null || n.title === title);
  if (!notification) return null;
  const event = new NotificationEvent('notificationclick', { notification, action });
  const promises = [];
  Object.defineProperty(event, 'waitUntil', { value: (promise) => void promises.push(promise) });
  self.dispatchEvent(event);
  const rejected = [];
  // A listener may extend the event again from a promise it passed: wait until none is added.
  for (let done = 0; done < promises.length; ) {
    const batch = promises.slice(done);
    done = promises.length;
    for (const result of await Promise.allSettled(batch)) if (result.status === 'rejected') rejected.push(String(result.reason));
  }
  return { title: notification.title, tag: notification.tag, rejected };
})(${JSON.stringify(tag ?? null)}, ${JSON.stringify(title ?? null)}, ${JSON.stringify(action)})`;
  for (const worker of workers) {
    const clicked = (await worker.evaluate(expression)) as NotificationClickResult | null;
    if (clicked) return clicked;
  }
  throw new Error(`no notification${tag == null ? '' : ` tagged ${tag}`}${title == null ? '' : ` titled ${title}`} is shown`);
}
