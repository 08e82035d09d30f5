// What a page ships with Pusher Beams: its client, which subscribes and registers.
export { Client } from '@pusher/push-notifications-web';
