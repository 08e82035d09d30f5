// tidings/worker: the service-worker half. Exports are listed by name; nothing runs at import.
export { createPushWorker } from './createPushWorker.js';
export type { PushWorker, PushWorkerOptions, NotificationSpec } from './createPushWorker.js';
export { TidingsError, isTidingsError } from '../shared/TidingsError.js';
export type { TidingsErrorCode } from '../shared/TidingsError.js';
export type { Envelope, EnvelopeNotification, EnvelopeAction, TidingsEvent } from '../shared/protocol.js';
