// The page floor: the least a site can write to get a push subscription to its backend.
// No sync state, no retries, no soft prompt: it is the size and speed below which no SDK
// can go, not a thing to ship.

/** Subscribes this browser and POSTs the subscription to `backend`; false where push is missing. */
export async function subscribe(vapidPublicKey, backend) {
  if (!('serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window)) return false;
  if ((await Notification.requestPermission()) !== 'granted') return false;
  const registration = await navigator.serviceWorker.ready;
  const key = Uint8Array.from(atob(vapidPublicKey.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const response = await fetch(`${backend}/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subscription }),
  });
  return response.ok;
}
