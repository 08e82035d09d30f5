// Bench probe, loaded by every worker under test before its push code. It tells the bench
// server when showNotification resolves (the notification exists). By request, not
// postMessage to a tab: Firebase shows nothing while a tab of the site is visible, so the
// bench keeps no tab open while it pushes.
//
// One request a notification, with the time since the last push event reached the worker;
// or, when the worker script's URL has `?batch` (bursts, where a request a notification
// would load the browser more than the worker under test), one request once the
// notifications stop, with how many were shown and the span from the first push event to
// the last notification.
const batched = new URL(self.location.href).searchParams.has('batch');
let lastPushAt = 0;
let burst = { firstPushAt: 0, lastShownAt: 0, shown: 0 };
let lastActivity = -Infinity;
let reportTimer;

// Added before the worker under test adds its own, so it runs first for every push.
self.addEventListener('push', () => {
  lastPushAt = performance.now();
  // A push after a second of quiet starts a new burst.
  if (lastPushAt - lastActivity > 1000) burst = { firstPushAt: lastPushAt, lastShownAt: 0, shown: 0 };
  lastActivity = lastPushAt;
});

function report(scope, fields) {
  const query = new URLSearchParams({ scope, ...fields });
  // Not awaited: the worker under test should not wait on the bench.
  fetch(`/probe?${query}`, { method: 'POST' }).catch(() => {});
}

const originalShow = ServiceWorkerRegistration.prototype.showNotification;
ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
  return originalShow.call(this, title, options).then((result) => {
    const at = performance.now();
    if (!batched) report(this.scope, { handled: String(at - lastPushAt), title: String(title) });
    else {
      burst.shown += 1;
      burst.lastShownAt = lastActivity = at;
      clearTimeout(reportTimer);
      const { shown, firstPushAt } = burst;
      reportTimer = setTimeout(() => report(this.scope, { shown: String(shown), span: String(at - firstPushAt), title: String(title) }), 50);
    }
    return result;
  });
};
