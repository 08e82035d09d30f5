// Bench probe, loaded by every worker under test before its push code. When
// showNotification resolves (the notification exists), it tells the bench server with a
// request: when, and how long since the last push event reached this worker. A request, not
// postMessage to a tab: Firebase shows nothing while a tab of the site is visible, so the
// bench keeps no tab open while it pushes.
let lastPushAt = 0;
// Added before the worker under test adds its own, so it runs first for every push.
self.addEventListener('push', () => {
  lastPushAt = performance.now();
});
const originalShow = ServiceWorkerRegistration.prototype.showNotification;
ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
  return originalShow.call(this, title, options).then((result) => {
    const handled = performance.now() - lastPushAt;
    const query = new URLSearchParams({ scope: this.scope, handled: String(handled), title: String(title) });
    // Not awaited: the worker under test should not wait on the bench.
    fetch(`/probe?${query}`, { method: 'POST' }).catch(() => {});
    return result;
  });
};
