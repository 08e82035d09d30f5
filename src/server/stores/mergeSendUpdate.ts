import type { SendCounts, SendFailure } from '../stats/statsTypes.js';
import { FINAL_STATES, stateRank, type SendUpdate, type StoredSend } from './insightRows.js';

const COUNTS: (keyof SendCounts)[] = ['targeted', 'sent', 'gone', 'failed', 'pruned', 'capped', 'deferred'];

/** What an update did to a send-log row, for the rollups written beside it. */
export interface MergedSend {
  send: StoredSend;
  /** How much `sent` grew (for the hour's `sent`). */
  sentGrew: number;
  /** `startedAt` was set by this update (for its hour's `messages`). */
  started: boolean;
  /** The state became final with this update. */
  finished: boolean;
}

/**
 * Applies a SendUpdate to a stored row (a copy; the row is not changed): the one reading
 * of SendUpdate's rules every store shares, inside its own transaction. Counts keep the
 * larger value, so writes of absolute counts commute; a state only moves forward.
 */
export function mergeSendUpdate(stored: StoredSend, update: SendUpdate): MergedSend {
  const send: StoredSend = structuredClone(stored);
  for (const key of COUNTS) {
    const given = update.counts?.[key];
    if (given !== undefined && given > send[key]) send[key] = given;
  }
  for (const [service, outcomes] of Object.entries(update.services ?? {})) {
    const row = (send.services[service] ??= { sent: 0, gone: 0, failed: 0 });
    for (const key of ['sent', 'gone', 'failed'] as const) row[key] = Math.max(row[key], outcomes[key] ?? 0);
  }
  for (const failure of update.failures ?? []) {
    const row = send.failures.find((f) => f.cause === failure.cause && f.host === failure.host);
    if (!row) send.failures.push(copyFailure(failure));
    else {
      row.count = Math.max(row.count, failure.count);
      if (row.sample === undefined && failure.sample !== undefined) row.sample = failure.sample;
    }
  }
  const wasFinal = FINAL_STATES.includes(send.state);
  if (update.state && !wasFinal && stateRank(update.state) > stateRank(send.state)) send.state = update.state;
  const started = send.startedAt === undefined && update.startedAt !== undefined;
  if (started) send.startedAt = update.startedAt!;
  if (send.finishedAt === undefined && update.finishedAt !== undefined && FINAL_STATES.includes(send.state)) send.finishedAt = update.finishedAt;
  if (update.nextWriteBy !== undefined && !(send.nextWriteBy! >= update.nextWriteBy)) send.nextWriteBy = update.nextWriteBy;
  if (update.error !== undefined && send.error === undefined && send.state === 'failed') send.error = update.error;
  return { send, sentGrew: send.sent - stored.sent, started, finished: !wasFinal && FINAL_STATES.includes(send.state) };
}

function copyFailure({ cause, host, count, sample }: SendFailure): SendFailure {
  return sample === undefined ? { cause, host, count } : { cause, host, count, sample };
}
