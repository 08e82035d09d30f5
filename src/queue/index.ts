// tidings/queue: durable sends spread over any number of processes and machines (BullMQ
// on Redis). Node 20+, with the `bullmq` package installed (an optional peer dependency).

export { createSendQueue } from './createSendQueue.js';
export { startSendWorker } from './startSendWorker.js';

// Errors
export { TidingsError, isTidingsError } from '../shared/TidingsError.js';

export type {
  DeliveryOptions,
  QueueConnectionOptions,
  SendQueue,
  SendQueueOptions,
  SendState,
  SendStatus,
  SendWorker,
  SendWorkerOptions,
} from './queueTypes.js';
export type { TidingsErrorCode, TidingsErrorDetails } from '../shared/TidingsError.js';
export type { SendOptions } from '../server/send/sendTypes.js';
export type { InsightEvent, MessageStats, PushStats, SendRecord } from '../server/stats/statsTypes.js';
export type { Envelope } from '../shared/protocol.js';
export type { MetricsRegistry } from '../server/metrics/MetricsRegistry.js';
export type { VapidDetails } from '../server/crypto/generateVapidKeys.js';
