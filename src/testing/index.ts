// tidings/testing: a local push service and helpers, so the whole web-push flow runs on
// one machine, offline. Node 20+.

export { startPushService } from './startPushService.js';
export { verifyVapid } from './verifyVapid.js';
export { createCertificate } from './createCertificate.js';
// Chromium end-to-end tests (Playwright): a subscription the page can have, real push
// events, and a notification click.
export { pushManagerStub } from './pushManagerStub.js';
export { attachPushDriver } from './attachPushDriver.js';
export { clickNotification } from './clickNotification.js';

export type { PushService, PushServiceOptions, RawPushMessage } from './startPushService.js';
export type { VapidVerdict, VerifyVapidOptions } from './verifyVapid.js';
export type { Certificate } from './createCertificate.js';
export type { CdpSession, PushDriver, PushDriverTarget } from './attachPushDriver.js';
export type {
  NotificationClickOptions,
  NotificationClickResult,
  ServiceWorkerContext,
  ServiceWorkerHandle,
} from './clickNotification.js';
export type { SubscriptionJSON } from '../shared/protocol.js';
