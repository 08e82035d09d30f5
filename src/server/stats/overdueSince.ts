import type { SendRecord } from './statsTypes.js';

/** How often, at least, the process running a send writes to its send-log row (runLoggedSlices). */
export const SEND_HEARTBEAT_MS = 60_000;

/**
 * How long a running send's row may stay unwritten before it is overdue: five heartbeats,
 * so that a busy event loop or a slow store write is not taken for a stopped process.
 */
export const SEND_QUIET_MS = 5 * SEND_HEARTBEAT_MS;

/**
 * When a send that has not finished should have moved and has not; undefined while it is
 * on time. A `running` send past its `nextWriteBy`: the process running it has most likely
 * stopped (a plain send() is resumed nowhere else; a scheduled one by any running
 * scheduler). A `scheduled` send SEND_QUIET_MS past its `scheduledAt`: no scheduler has
 * started it. A queued send is the queue's to watch (its stalled jobs go to another sender).
 */
export function overdueSince(record: Pick<SendRecord, 'state' | 'via' | 'nextWriteBy' | 'scheduledAt'>, now: number): number | undefined {
  if (record.via !== 'send') return undefined;
  const due =
    record.state === 'running'
      ? record.nextWriteBy
      : record.state === 'scheduled' && record.scheduledAt !== undefined
        ? record.scheduledAt + SEND_QUIET_MS
        : undefined;
  return due !== undefined && due < now ? due : undefined;
}
