import { RECORD_VERSION, type SendRecord } from './createSendLedger.js';
import type { BatchJob } from './queueSetup.js';

/** Subscribers per batch at most: a record asking for more is not one this version wrote. */
export const MAX_BATCH_SIZE = 100_000;

// A job or a record in Redis is data another process wrote: an older or newer tidings, a
// bug, a hand in redis-cli. Trusted as it is, `k: "0"` made batch "01", and a batchSize of 0
// planned empty batches without end. Each is checked before anything is pushed, and
// refused with the reason, which the send's status then shows.

/** The job's fields, or why they cannot be a batch of a send. */
export function checkJob(data: unknown): BatchJob | string {
  if (typeof data !== 'object' || data === null) return 'the job is not an object';
  const { id, k, after } = data as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0) return 'the job has no message id';
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0) return `the job's batch number k is not a whole number >= 0: ${JSON.stringify(k)}`;
  if (k === 0 && after !== undefined) return 'the job of batch 0 has a cursor (after)';
  if (k > 0 && (typeof after !== 'string' || after.length === 0)) return `the job of batch ${k} has no cursor (after) string`;
  return after === undefined ? { id, k } : { id, k, after: after as string };
}

/** The record, or why it is not one this version can send. */
export function checkRecord(record: unknown, id: string): SendRecord | string {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'the send record is not an object';
  const { v, message, query, batchSize } = record as Record<string, unknown>;
  // No `v`: written by tidings 0.1.0, whose records have the same fields, checked below.
  if (v !== undefined && v !== RECORD_VERSION) return `the send record has shape ${JSON.stringify(v)}, which this version of tidings does not read`;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    return `the send record's batchSize is not a whole number from 1 to ${MAX_BATCH_SIZE}: ${JSON.stringify(batchSize)}`;
  }
  if (typeof query !== 'object' || query === null || Array.isArray(query)) return 'the send record has no audience query';
  // A slice of a send (local time, quiet hours) sends its parent's message, whose record is checked in turn.
  const { parent } = record as Record<string, unknown>;
  if (parent !== undefined) return typeof parent === 'string' && parent.length > 0 ? (record as SendRecord) : 'the slice record names no parent send';
  const envelope = typeof message === 'object' && message !== null ? (message as { envelope?: { id?: unknown } }).envelope : undefined;
  if (typeof envelope !== 'object' || envelope === null || envelope.id !== id) return 'the send record holds no message with this id';
  return record as SendRecord;
}
