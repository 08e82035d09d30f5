// Pusher serves its worker from its CDN; the npm package carries the source, bundled here
// the same way as every other entry.
import '@pusher/push-notifications-web/src/service-worker.js';
