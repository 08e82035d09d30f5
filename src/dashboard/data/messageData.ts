import type { JsonValue } from '../../shared/protocol.js';
import { isTidingsError } from '../../shared/TidingsError.js';
import type { MessageData, MessageDetail, MessageRow, MessagesData, Progress, SendState } from '../protocol.js';
import type { DashboardPush, DashboardQueue, QueueStatus } from '../dashboardTypes.js';
import type { EventCounts, MessageStats, PushStats, SendRecord } from '../statsContract.js';

/** Rows of the Messages page. */
export const PAGE_SIZE = 25;

const STATES: readonly SendState[] = ['scheduled', 'queued', 'running', 'done', 'cancelled', 'failed'];
const UNFINISHED: readonly SendState[] = ['scheduled', 'queued', 'running'];

/** The send log, newest first, a page at a time. */
export async function messagesData(stats: PushStats, after: string | undefined): Promise<MessagesData> {
  const page = await stats.messages({ limit: PAGE_SIZE, ...(after ? { after } : {}) });
  const data: MessagesData = { items: page.items.map((item) => row(item, item.clickRate)) };
  if (page.next) data.next = page.next;
  return data;
}

/**
 * One message: its record and funnel from the send log (with `stats`), and while it has
 * not finished, its progress from whoever sends it (the queue, or `push.status`). Undefined
 * when neither knows the id.
 */
export async function messageData(push: DashboardPush, queue: DashboardQueue | undefined, stats: PushStats | undefined, id: string): Promise<MessageData | undefined> {
  const record = stats ? await stats.message(id) : undefined;
  const via = record?.via ?? (queue ? 'queue' : 'send');
  const progress = record && !UNFINISHED.includes(record.state) ? undefined : await readProgress(push, queue, id, via);
  if (!record && !progress) return undefined;
  const state = progress?.state ?? record?.state;
  const data: MessageData = { id, cancellable: canCancel(push, queue, via) && state !== undefined && UNFINISHED.includes(state) };
  if (record) data.message = detail(record);
  if (progress) data.progress = progress;
  return data;
}

/** Stops a send; its progress after, or undefined when nobody knows the id. */
export async function cancelSend(push: DashboardPush, queue: DashboardQueue | undefined, stats: PushStats | undefined, id: string): Promise<Progress | undefined> {
  const via = (stats && (await stats.message(id))?.via) ?? (queue ? 'queue' : 'send');
  if (via === 'queue' && queue?.cancel) {
    await queue.cancel(id);
    return readProgress(push, queue, id, via);
  }
  if (push.cancel) {
    const record = await push.cancel(id);
    return record && progressOf(record);
  }
  return undefined;
}

export function canCancel(push: DashboardPush, queue: DashboardQueue | undefined, via: 'send' | 'queue'): boolean {
  return via === 'queue' ? typeof queue?.cancel === 'function' : typeof push.cancel === 'function';
}

async function readProgress(push: DashboardPush, queue: DashboardQueue | undefined, id: string, via: 'send' | 'queue'): Promise<Progress | undefined> {
  if (via === 'queue' && queue) {
    try {
      const status = await queue.status(id);
      return status && progressOf(status);
    } catch (error) {
      // Today's queue throws for an id it never queued (or whose status expired).
      if (isTidingsError(error, 'queue-failed') && /^no send with id /.test(String(error.details.reason))) return undefined;
      throw error;
    }
  }
  const record = push.status ? await push.status(id) : undefined;
  return record && progressOf(record);
}

/** A send's progress from a send-log record (issue 21's status) or the queue's status. */
function progressOf(status: SendRecord | QueueStatus): Progress {
  const progress: Progress = {
    state: STATES.includes(status.state as SendState) ? (status.state as SendState) : 'running',
    sent: status.sent,
    gone: status.gone,
    failed: status.failed,
  };
  if ('targeted' in status) {
    progress.targeted = status.targeted;
    progress.capped = status.capped;
    progress.deferred = status.deferred;
  } else if (status.total !== undefined) progress.targeted = status.total;
  if (status.error !== undefined) progress.error = status.error;
  return progress;
}

/** A send-log row as the pages get it: named fields only, never the record as it came. */
function row(record: SendRecord & EventCounts, clickRate: number | null): MessageRow {
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
  return out;
}

function detail(stats: MessageStats): MessageDetail {
  const out: MessageDetail = {
    ...row(stats, stats.clickRate),
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
