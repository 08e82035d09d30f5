// The insight contract (issue 19) as the dashboard reads it: the types of
// src/server/stats/statsTypes.ts, which push.stats and createSendQueue().stats answer.
// Every other dashboard file imports them from here.
export type {
  EventCounts,
  MessagePage,
  MessageStats,
  PushStats,
  SendCounts,
  SendFailure,
  SendRecord,
  SendState,
  SubscriberStats,
  SubscriptionSummary,
  Timeline,
  TimelinePoint,
} from '../server/stats/statsTypes.js';
export type { AttributeMatch, AttributeValue, Audience, SendTarget } from '../server/audience/Audience.js';
