// tidings/worker: the service-worker half. Exports are listed by name; nothing runs at import.
export { createPushWorker } from './createPushWorker.js';
export type {
  NotificationClick,
  NotificationDraft,
  NotificationSpec,
  PushContext,
  PushFailure,
  PushHandler,
  PushHooks,
  PushWorker,
  PushWorkerOptions,
} from './types.js';
export { TidingsError, isTidingsError } from '../shared/TidingsError.js';
export type { TidingsErrorCode } from '../shared/TidingsError.js';
export type {
  Envelope,
  EnvelopeAction,
  EnvelopeCache,
  EnvelopeNotification,
  JsonValue,
  NotificationClickMessage,
  NotificationMark,
  PushDataMessage,
  TidingsEvent,
} from '../shared/protocol.js';
