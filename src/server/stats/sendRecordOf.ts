import type { SubscriptionQuery } from '../audience/Audience.js';
import type { PreparedMessage } from '../send/createSender.js';
import type { SendOptions } from '../send/sendTypes.js';
import type { SendRecord, SendState } from './statsTypes.js';
import { invalidOption as invalid } from '../common/checkOptions.js';
import { isPlainText } from '../common/attributeRules.js';
import { SEND_QUIET_MS } from './overdueSince.js';

/** The options of a send that the log keeps: everything but the audience and the sender, which have their own fields. */
const NOT_OPTIONS = new Set(['to', 'by']);

/** `send(envelope, { by })`: who sent it, a short plain text (a user name, a job's name). */
export function checkBy(by: unknown): string | undefined {
  if (by === undefined) return undefined;
  if (typeof by !== 'string' || by.length === 0 || by.length > 200 || !isPlainText(by)) invalid('by', 'must be 1-200 characters of plain text');
  return by;
}

/** A new send-log row for a prepared message (its counts zero). */
export function sendRecordOf(
  message: PreparedMessage,
  options: SendOptions,
  query: SubscriptionQuery,
  { via, state, now, by }: { via: 'send' | 'queue'; state: SendState; now: number; by: string | undefined },
): SendRecord {
  const { envelope } = message;
  const audience: Partial<SubscriptionQuery> = { ...query };
  delete audience.limit;
  delete audience.after;
  const record: SendRecord = {
    id: envelope.id,
    envelope,
    audience: Object.keys(audience).length > 0 ? audience : null,
    options: Object.fromEntries(Object.entries(options).filter(([key, value]) => !NOT_OPTIONS.has(key) && value !== undefined)),
    via,
    state,
    createdAt: now,
    targeted: 0,
    sent: 0,
    gone: 0,
    failed: 0,
    pruned: 0,
    capped: 0,
    deferred: 0,
    failures: [],
  };
  const { notification, type } = envelope;
  if (typeof notification?.title === 'string') record.title = notification.title;
  if (typeof notification?.url === 'string') record.url = notification.url;
  if (typeof type === 'string') record.type = type;
  if (by !== undefined) record.by = by;
  if (state === 'running') {
    record.startedAt = now;
    record.nextWriteBy = now + SEND_QUIET_MS;
  }
  return record;
}
