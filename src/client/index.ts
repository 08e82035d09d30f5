// tidings: the page SDK. Exports are listed by name; nothing runs at import.
export { isSupported } from './isSupported.js';
export { createPushClient } from './createPushClient.js';
export { showSoftPrompt } from './showSoftPrompt.js';
export { TidingsError, isTidingsError } from '../shared/TidingsError.js';

export type { NotificationClickInfo, PushClient, PushState } from './PushClient.js';
export type { PushClientOptions } from './PushClientOptions.js';
export type { Diagnosis } from './diagnose.js';
export type { SoftPromptAnswer, SoftPromptOptions } from './showSoftPrompt.js';
export type { BackendAdapter, BackendHeaders } from '../shared/protocol.js';
export type { TidingsErrorCode, TidingsErrorDetails } from '../shared/TidingsError.js';
export type {
  Attributes,
  Envelope,
  JsonValue,
  RegisterRequest,
  RegisterResponse,
  SealKey,
  SubscriptionJSON,
} from '../shared/protocol.js';
