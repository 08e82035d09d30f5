// The worker floor: parse the push as JSON and show its notification. A classic script, so
// it loads with importScripts() like the tidings worker bundle. No dedupe, no analytics,
// no safety: Chrome requires a notification per push, and this shows one when it can.
self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {}
  const notification = message.notification || {};
  event.waitUntil(
    self.registration.showNotification(notification.title || 'New notification', {
      body: notification.body || '',
      tag: notification.tag,
    }),
  );
});
