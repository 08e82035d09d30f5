// The insight contract (issue 19, /work/notes/insight-contract.md) as the dashboard reads
// it, until src/server/stats/statsTypes.ts exists. At the merge this file becomes
//   export type { ... } from '../server/stats/statsTypes.js';
// and nothing else in the dashboard changes: every other dashboard file imports these
// types from here. Field names are the contract's; only the audience types are local,
// mirroring the richer audiences of issue 21 (src/server/audience/Audience.ts there).
import type { Attributes, Envelope } from '../shared/protocol.js';

export type AttributeValue = string | number | boolean;
/** A value, any of a list, or `{ present: true | false }`. */
export type AttributeMatch = AttributeValue | AttributeValue[] | { present: boolean };
export interface Audience {
  attributes?: Record<string, AttributeMatch>;
  any?: Audience[];
  not?: Audience;
}
/** Who a send goes to: a subscription id, ids, or an audience. */
export type SendTarget = string | string[] | Audience;

export type SendState = 'scheduled' | 'queued' | 'running' | 'done' | 'cancelled' | 'failed';

export interface SendCounts {
  targeted: number;
  sent: number;
  gone: number;
  failed: number;
  pruned: number;
  capped: number;
  deferred: number;
}

export interface SendFailure {
  cause: string;
  host: string;
  count: number;
  sample?: string;
}

export interface SendRecord extends SendCounts {
  id: string;
  title?: string;
  url?: string;
  type?: string;
  envelope: Envelope;
  audience: unknown | null;
  options: Record<string, unknown>;
  by?: string;
  via: 'send' | 'queue';
  state: SendState;
  createdAt: number;
  scheduledAt?: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  failures: SendFailure[];
}

export interface EventCounts {
  delivered: number;
  shown: number;
  clicked: number;
  closed: number;
  workerFailed: number;
}

export interface MessageStats extends SendRecord, EventCounts {
  clickRate: number | null;
  closeRate: number | null;
  byService: Record<string, Pick<SendCounts, 'sent' | 'gone' | 'failed'> & EventCounts>;
  byBrowser: Record<string, EventCounts>;
  unverified: EventCounts;
  errors: SendFailure[];
}

export interface MessagePage {
  items: (SendRecord & EventCounts & { clickRate: number | null })[];
  next?: string;
}

export interface TimelinePoint {
  at: number;
  messages: number;
  sent: number;
  delivered: number;
  shown: number;
  clicked: number;
  closed: number;
  workerFailed: number;
  subscribed: number;
  unsubscribed: number;
}

export interface Timeline {
  bucket: 'hour' | 'day';
  points: TimelinePoint[];
}

export interface SubscriberStats {
  total: number;
  byService: Record<string, number>;
  byBrowser: Record<string, number>;
  byAttribute?: { key: string; values: { value: string | number | boolean; count: number }[]; other: number; none: number };
  daily: { day: number; created: number; removed: number; total: number }[];
}

export interface SubscriptionSummary {
  id: string;
  service: string;
  browser: string;
  host: string;
  attributes: Attributes;
  createdAt: number;
  updatedAt: number;
  failingSince?: number;
  lastSentAt?: number;
}

export interface PushStats {
  message(id: string): Promise<MessageStats | undefined>;
  messages(query?: { since?: number; until?: number; limit?: number; after?: string }): Promise<MessagePage>;
  timeline(query: { since: number; until?: number; bucket: 'hour' | 'day' }): Promise<Timeline>;
  subscribers(query?: { by?: string; since?: number }): Promise<SubscriberStats>;
  subscriptions(query: { to?: SendTarget; limit?: number; after?: string }): Promise<{ items: SubscriptionSummary[]; next?: string }>;
}
