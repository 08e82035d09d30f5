// tidings/server: the backend half. Node 20+, or any runtime with the Fetch API and
// node:crypto (the stores and `send` use Node modules).

// Sending
export { createPushServer } from './createPushServer.js';
export { generateVapidKeys } from './crypto/generateVapidKeys.js';
export { seal } from './crypto/seal.js';
export { toFastifyPlugin } from './http/toFastifyPlugin.js';
export { toNodeHandler } from './http/toNodeHandler.js';

// Stores
export { memoryStore } from './stores/memory/memoryStore.js';
export { sqliteStore } from './stores/sqlite/sqliteStore.js';
export { matchesAudience } from './audience/matchesAudience.js';
export { applyCap } from './controls/frequencyCap.js';

// Insight: the stats over any store (push.stats without a push server)
export { createPushStats } from './stats/createPushStats.js';
// Insight: what a store of your own needs to keep the send log and rollups as tidings' do
export { browserFamilyOf, pushServiceOf } from './stats/classify.js';
export { mergeSendUpdate } from './stores/mergeSendUpdate.js';
export { overdueSince } from './stats/overdueSince.js';
export { countedColumn } from './stores/insightRows.js';

// Errors
export { TidingsError, isTidingsError } from '../shared/TidingsError.js';

export type { PushServer, PushServerOptions, SchedulerSettings, SendError, SendOptions, SendResult } from './createPushServer.js';
export type { MetricsRegistry } from './metrics/MetricsRegistry.js';
export type { LocaleOverride } from './controls/locales.js';
export type { SendControl } from './controls/sendControls.js';
export type { Identify, RequestContext, RequestInfo } from './http/createHandler.js';
export type { TrustProxy } from './http/clientAddress.js';
export type { FastifyReplyLike, FastifyRequestLike, FastifyScope } from './http/toFastifyPlugin.js';
export type { NodeHandlerOptions } from './http/toNodeHandler.js';
export type { VapidDetails, VapidKeys } from './crypto/generateVapidKeys.js';
export type { MemoryStoreOptions } from './stores/memory/memoryStore.js';
export type {
  AttributeChanges,
  AttributeMatch,
  AttributeValue,
  Audience,
  CapCheck,
  CapEntry,
  DecideSave,
  FrequencyCap,
  PlannedSlice,
  ScheduleClaim,
  ScheduledSend,
  ScheduleUpdate,
  SendPlan,
  EventQuery,
  SaveDecision,
  StoredSubscription,
  SubscriptionQuery,
  SubscriptionStore,
} from './stores/SubscriptionStore.js';
export type { SendTarget } from './audience/Audience.js';
export type {
  EventCounts,
  InsightEvent,
  MessagePage,
  MessageStats,
  MessageSummary,
  MessagesQuery,
  PushStats,
  SendCounts,
  SendFailure,
  SendRecord,
  SendState,
  ServiceOutcomes,
  SubscriberStats,
  SubscribersQuery,
  SubscriptionSummary,
  SubscriptionsQuery,
  Timeline,
  TimelinePoint,
  TimelineQuery,
} from './stats/statsTypes.js';
export type {
  CountedEvent,
  EventBatch,
  EventColumns,
  HourRow,
  MessageEventRow,
  RecordedEvents,
  SendListQuery,
  SendUpdate,
  SendUpdated,
  StoredSend,
  SubscriberCounts,
  SubscriberCountsQuery,
} from './stores/insightRows.js';
export type { BrowserFamily, PushServiceName } from './stats/classify.js';
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
