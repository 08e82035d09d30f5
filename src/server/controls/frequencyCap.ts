import { createHash } from 'node:crypto';
import { ownEntries } from '../common/attributeRules.js';
import { invalidOption as invalid } from '../common/checkOptions.js';

/** At most `max` pushes to one subscriber in any `per` ms. */
export interface FrequencyCap {
  max: number;
  per: number;
}

/** Largest `max`: the record kept per subscription holds up to this many pushes. */
export const MAX_CAP = 100;
/** Longest window. */
export const MAX_CAP_WINDOW = 31 * 86_400_000;

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `'30m'`, `'12h'`, `'1d'`, `'7d'` in ms, or undefined when it is not one. */
export function parseDuration(text: unknown): number | undefined {
  const match = typeof text === 'string' ? /^(\d{1,4})([mhd])$/.exec(text) : null;
  return match ? Number(match[1]) * UNITS[match[2]!]! : undefined;
}

/**
 * Checks a cap option: `{ max, per }` with `per` a duration (`'1d'`) or ms, or `false`
 * (none, over a default). Throws `invalid-option` naming `option`.
 */
export function checkCap(value: unknown, option: string): FrequencyCap | false | undefined {
  if (value === undefined || value === false) return value;
  const entries = ownEntries(value);
  const cap = entries && Object.fromEntries(entries);
  if (!cap || entries.some(([key]) => key !== 'max' && key !== 'per')) return invalid(option, "must be { max, per } (per: '1h', '1d', '7d' or ms) or false");
  if (!Number.isInteger(cap.max) || (cap.max as number) < 1 || (cap.max as number) > MAX_CAP) invalid(`${option}.max`, `must be an integer from 1 to ${MAX_CAP}`);
  const per = typeof cap.per === 'number' ? cap.per : parseDuration(cap.per);
  if (per === undefined || !Number.isInteger(per) || per < 60_000 || per > MAX_CAP_WINDOW) {
    invalid(`${option}.per`, "must be a duration from 1 minute to 31 days: '30m', '12h', '1d', '7d' or ms");
  }
  return { max: cap.max as number, per };
}

/** What a send asks of each subscription's record (SubscriptionStore.capSends). */
export interface CapCheck {
  /** Names the message in the record (capTag), so a batch run again counts its push once. */
  tag: string;
  /** When the push is made (ms). */
  at: number;
  /** null: record the push without checking (a send with `cap: false` under a default cap). */
  cap: FrequencyCap | null;
  /** Pushes the record keeps: the largest `max` in use, so it stays as small as the caps allow. */
  keep: number;
}

/** One push in a subscription's record: when, and which message (capTag). */
export type CapEntry = [at: number, tag: string];

/** A short name for a message id in the records (48 bits of SHA-256: records hold at most 100). */
export function capTag(messageId: string): string {
  return createHash('sha256').update(messageId).digest('base64url').slice(0, 8);
}

/**
 * The one rule every store applies to a subscription's record, inside its own lock or
 * transaction: a push of a message already in the record is allowed again (a batch run
 * twice); else it is allowed when fewer than `cap.max` pushes fall in the window before
 * `at`, and recorded. The record keeps the newest `keep` pushes, so it never grows past
 * the largest cap. Returns whether the push may go, and the record to write (undefined:
 * unchanged).
 */
export function applyCap(record: readonly CapEntry[] | undefined, check: CapCheck): { allowed: boolean; record?: CapEntry[] } {
  const entries = record ?? [];
  if (entries.some(([, tag]) => tag === check.tag)) return { allowed: true };
  if (check.cap) {
    const since = check.at - check.cap.per;
    if (entries.filter(([at]) => at > since).length >= check.cap.max) return { allowed: false };
  }
  const next = [...entries, [check.at, check.tag] as CapEntry].sort((a, b) => a[0] - b[0]);
  return { allowed: true, record: next.slice(-Math.max(1, check.keep)) };
}
