import type { Envelope } from '../../shared/protocol.js';
import type { AudienceData, Capabilities, ComposeOptions, MessageData, MessagesData, OverviewData, Progress, Range, SendAnswer } from '../protocol.js';
import type { DashboardPush, DashboardQueue } from '../dashboardTypes.js';
import type { SendTarget } from '../statsContract.js';
import { audienceData, type AudienceQuery } from './audienceData.js';
import { cancelSend, messageData, messagesData } from './messageData.js';
import { overviewData } from './overviewData.js';
import { readCapabilities } from './readCapabilities.js';
import { countAudience, sendMessage } from './sendMessage.js';

/** What the pages need, whatever the push object can do (each missing part says so). */
export interface DashboardData {
  capabilities: Capabilities;
  overview(range: Range): Promise<OverviewData>;
  /** Undefined without a send log. */
  messages(after?: string): Promise<MessagesData | undefined>;
  message(id: string): Promise<MessageData | undefined>;
  audience(query: AudienceQuery): Promise<AudienceData>;
  count(to: SendTarget | undefined): Promise<number | null>;
  send(envelope: Envelope, to: SendTarget | undefined, options: ComposeOptions, by: string): Promise<SendAnswer>;
  /** Undefined when nobody knows the id; never called without the capability. */
  cancel(id: string): Promise<Progress | undefined>;
}

/**
 * The one place that turns `push` (and `queue`) into what the pages show: the handler
 * calls nothing else of them. When issue 19's stats and issue 21's controls land, this
 * folder is what reads them (see statsContract.ts for the types).
 */
export function createDashboardData(
  push: DashboardPush,
  queue: DashboardQueue | undefined,
  { engagementWarning, identityAttribute, now = Date.now }: { engagementWarning: number; identityAttribute: string; now?: () => number },
): DashboardData {
  const { statsSource: stats, ...capabilities } = readCapabilities(push, queue);
  return {
    capabilities,
    overview: (range) => overviewData(push, stats, range, now(), engagementWarning),
    messages: async (after) => (stats ? messagesData(stats, after, now()) : undefined),
    message: (id) => messageData(push, queue, stats, id, now()),
    audience: (query) => audienceData(push, stats, query, { richAudiences: capabilities.richAudiences, identityAttribute }),
    count: (to) => countAudience(push, to),
    send: (envelope, to, options, by) => sendMessage(push, queue, envelope, to, options, by),
    cancel: (id) => cancelSend(push, queue, stats, id, now()),
  };
}
