// tidings/server: the backend half. Node 20+, or any runtime with the Fetch API and
// node:crypto (the stores and `send` use Node modules).

// Sending
export { createPushServer } from './createPushServer.js';
export { generateVapidKeys } from './generateVapidKeys.js';
export { seal } from './seal.js';
export { toFastifyPlugin } from './toFastifyPlugin.js';
export { toNodeHandler } from './toNodeHandler.js';

// Stores
export { memoryStore } from './memoryStore.js';
export { sqliteStore } from './sqliteStore.js';

// Errors
export { TidingsError, isTidingsError } from '../shared/TidingsError.js';

export type { PushServer, PushServerOptions, SendError, SendOptions, SendResult } from './createPushServer.js';
export type { Identify, RequestInfo } from './createHandler.js';
export type { FastifyScope } from './toFastifyPlugin.js';
export type { NodeHandlerOptions } from './toNodeHandler.js';
export type { VapidDetails, VapidKeys } from './generateVapidKeys.js';
export type { MemoryStoreOptions } from './memoryStore.js';
export type { EventQuery, StoredSubscription, SubscriptionQuery, SubscriptionStore } from './SubscriptionStore.js';
export type { TidingsErrorCode, TidingsErrorDetails } from '../shared/TidingsError.js';
export type {
  Attributes,
  Envelope,
  EventsRequest,
  RegisterRequest,
  RegisterResponse,
  SealKey,
  SubscriptionJSON,
  TidingsEvent,
} from '../shared/protocol.js';
