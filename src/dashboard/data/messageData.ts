import type { JsonValue } from '../../shared/protocol.js';
import { isTidingsError } from '../../shared/TidingsError.js';
import type { MessageData, MessageDetail, MessageRow, MessagesData, Progress, SendState } from '../protocol.js';
import type { DashboardPush, DashboardQueue, QueueStatus } from '../dashboardTypes.js';
import type { EventCounts, MessageStats, PushStats, SendRecord } from '../statsContract.js';
import { overdueSince } from '../../server/stats/overdueSince.js';

/** Rows of the Messages page. */
export const PAGE_SIZE = 25;

const STATES: readonly SendState[] = ['scheduled', 'queued', 'running', 'done', 'cancelled', 'failed'];
const UNFINISHED: readonly SendState[] = ['scheduled', 'queued', 'running'];

/** The send log, newest first, a page at a time. */
export async function messagesData(stats: PushStats, after: string | undefined, now: number): Promise<MessagesData> {
  const page = await stats.messages({ limit: PAGE_SIZE, ...(after ? { after } : {}) });
  const data: MessagesData = { items: page.items.map((item) => row(item, item.clickRate, now)) };
  if (page.next) data.next = page.next;
  return data;
}

/**
 * One message: its row of the send log (with `stats`, its funnel too; without, what
 * `push.status` says), and while it has not finished, its progress: the row itself for a
 * plain send (its process writes it page by page), the row with the queue's live counts
 * for a queued one. Undefined when the send log does not know the id.
 */
export async function messageData(
  push: DashboardPush,
  queue: DashboardQueue | undefined,
  stats: PushStats | undefined,
  id: string,
  now: number,
): Promise<MessageData | undefined> {
  const record = await readRecord(push, stats, id);
  if (!record) return undefined;
  const data: MessageData = { id, cancellable: false };
  if (stats) data.message = detail(record as MessageStats, now);
  if (UNFINISHED.includes(record.state)) {
    const progress = await liveProgress(queue, record, now);
    data.progress = progress;
    data.cancellable = canCancel(push, queue, record.via) && UNFINISHED.includes(progress.state);
  }
  return data;
}

/** Stops a send; its progress after, or undefined when nobody knows the id (or it cannot be cancelled). */
export async function cancelSend(
  push: DashboardPush,
  queue: DashboardQueue | undefined,
  stats: PushStats | undefined,
  id: string,
  now: number,
): Promise<Progress | undefined> {
  const record = await readRecord(push, stats, id);
  if (!record || !canCancel(push, queue, record.via)) return undefined;
  if (record.via === 'queue') {
    const status = await queue!.cancel!(id);
    if (!status) return undefined;
    // The queue wrote its counts into the send log as it cancelled: the row, with Redis's last word.
    return progressOf(withQueueCounts((await readRecord(push, stats, id)) ?? record, status), now);
  }
  const after = await push.cancel!(id);
  return after && progressOf(after, now);
}

export function canCancel(push: DashboardPush, queue: DashboardQueue | undefined, via: 'send' | 'queue'): boolean {
  return via === 'queue' ? typeof queue?.cancel === 'function' : typeof push.cancel === 'function';
}

/** The send log's row: from the stats (with the funnel), or from `push.status`. */
async function readRecord(push: DashboardPush, stats: PushStats | undefined, id: string): Promise<SendRecord | undefined> {
  if (stats) return stats.message(id);
  return push.status ? push.status(id) : undefined;
}

async function liveProgress(queue: DashboardQueue | undefined, record: SendRecord, now: number): Promise<Progress> {
  if (record.via !== 'queue' || !queue) return progressOf(record, now);
  let status: QueueStatus;
  try {
    status = await queue.status(record.id);
  } catch (error) {
    // The queue has no status for it (not queued yet, or its status expired): the row is all there is.
    if (isTidingsError(error, 'queue-failed') && /^no send with id /.test(String(error.details.reason))) return progressOf(record, now);
    throw error;
  }
  return progressOf(withQueueCounts(record, status), now);
}

/**
 * A queued send's row with the counts Redis holds now: exact while it runs, where the row
 * is brought up to date a batch at a time. `targeted` keeps its send-log meaning (whom the
 * send has dealt with); the audience counted when it was queued is `expected`.
 */
function withQueueCounts(record: SendRecord, status: QueueStatus): SendRecord & { expected?: number } {
  const capped = status.capped ?? record.capped;
  const live: SendRecord & { expected?: number } = {
    ...record,
    state: STATES.includes(status.state) ? status.state : record.state,
    targeted: Math.max(record.targeted, status.sent + status.gone + status.failed + capped),
    sent: status.sent,
    gone: status.gone,
    failed: status.failed,
    capped,
    deferred: status.deferred ?? record.deferred,
  };
  if (status.total !== undefined) live.expected = status.total;
  if (status.error !== undefined) live.error = status.error;
  return live;
}

/** The progress the pages show: the counts of one send-log row, named fields only. */
function progressOf(record: SendRecord & { expected?: number }, now: number): Progress {
  const { state, targeted, sent, gone, failed, pruned, capped, deferred, expected, error } = record;
  const progress: Progress = { state, targeted, sent, gone, failed, pruned, capped, deferred };
  if (expected !== undefined) progress.expected = expected;
  if (error !== undefined) progress.error = error;
  const overdue = overdueSince(record, now);
  if (overdue !== undefined) progress.overdueSince = overdue;
  return progress;
}

/** A send-log row as the pages get it: named fields only, never the record as it came. */
function row(record: SendRecord & EventCounts, clickRate: number | null, now: number): MessageRow {
  const out: MessageRow = {
    id: record.id,
    via: record.via,
    state: record.state,
    createdAt: record.createdAt,
    targeted: record.targeted,
    sent: record.sent,
    gone: record.gone,
    failed: record.failed,
    pruned: record.pruned,
    capped: record.capped,
    deferred: record.deferred,
    delivered: record.delivered,
    shown: record.shown,
    clicked: record.clicked,
    closed: record.closed,
    workerFailed: record.workerFailed,
    clickRate,
  };
  for (const key of ['title', 'url', 'type', 'by'] as const) if (record[key] !== undefined) out[key] = record[key];
  for (const key of ['scheduledAt', 'startedAt', 'finishedAt'] as const) if (record[key] !== undefined) out[key] = record[key];
  const overdue = overdueSince(record, now);
  if (overdue !== undefined) out.overdueSince = overdue;
  return out;
}

function detail(stats: MessageStats, now: number): MessageDetail {
  const out: MessageDetail = {
    ...row(stats, stats.clickRate, now),
    closeRate: stats.closeRate,
    envelope: stats.envelope,
    audience: (stats.audience ?? null) as JsonValue,
    options: stats.options as Record<string, JsonValue>,
    byService: stats.byService,
    byBrowser: stats.byBrowser,
    unverified: stats.unverified,
    errors: stats.errors,
  };
  if (stats.error !== undefined) out.error = stats.error;
  return out;
}
