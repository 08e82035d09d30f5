import { invalidOption as invalid } from '../common/checkOptions.js';
import type { SendOptions } from '../send/sendTypes.js';
import { checkCap, type FrequencyCap } from './frequencyCap.js';
import { knownTimeZone, parseClockTime, quietMinutes, type QuietHours } from './localClock.js';

/** The sending controls a push object takes: `push.controls` lists them, for tools (the dashboard, the CLI). */
export const SEND_CONTROLS = ['at', 'localTime', 'timeZone', 'quietHours', 'perSecond', 'cap', 'locales'] as const;
export type SendControl = (typeof SEND_CONTROLS)[number];

/** How far ahead a send may be scheduled. */
export const MAX_SCHEDULE_AHEAD = 366 * 86_400_000;
/** The highest `perSecond`. */
export const MAX_PER_SECOND = 100_000;

/** The controls of one send, checked and in the form the senders use (JSON-safe: queued sends carry it). */
export interface SendControls {
  /** When it starts, ms since the epoch (absent: now). */
  at?: number;
  /** `localTime` in minutes after midnight. */
  localTime?: number;
  /** The zone of subscribers without a known one. */
  timeZone: string;
  quietHours?: QuietHours;
  perSecond?: number;
  /**
   * The frequency cap in force: `check`, the send's cap or else the default (null: `cap:
   * false` under a default, so the push is recorded but not checked); `keep`, the pushes
   * each record keeps (the larger `max` of the two). Absent: no cap anywhere, no record.
   */
  cap?: { check: FrequencyCap | null; keep: number };
}

/**
 * Checks the controls of `options` (each throws `invalid-option` naming it) and applies
 * the server's default cap. `now` is the clock of the push object.
 */
export function checkSendControls(options: SendOptions, now: number, defaultCap: FrequencyCap | undefined): SendControls {
  const controls: SendControls = { timeZone: 'UTC' };
  if (options.at !== undefined) controls.at = instant(options.at, now);
  if (options.localTime !== undefined) {
    const minutes = parseClockTime(options.localTime);
    if (minutes === undefined) invalid('localTime', "must be a 24-hour time 'HH:MM' ('09:00')");
    controls.localTime = minutes;
  }
  if (options.timeZone !== undefined) {
    const zone = knownTimeZone(options.timeZone);
    if (!zone) invalid('timeZone', "must be an IANA time zone this runtime knows ('Europe/Paris', 'UTC')");
    controls.timeZone = zone;
  }
  if (options.quietHours !== undefined) {
    const [from, to, extra] = Array.isArray(options.quietHours) ? options.quietHours.map(parseClockTime) : [];
    if (from === undefined || to === undefined || extra !== undefined || options.quietHours.length !== 2) {
      invalid('quietHours', "must be [from, to], 24-hour times ('22:00', '08:00')");
    }
    if (quietMinutes([from, to]) === 0) invalid('quietHours', 'start and end at the same time: that is never, or always');
    controls.quietHours = [from, to];
  }
  if (options.perSecond !== undefined) {
    const rate = options.perSecond;
    if (!Number.isInteger(rate) || rate < 1 || rate > MAX_PER_SECOND) invalid('perSecond', `must be an integer from 1 to ${MAX_PER_SECOND}`);
    controls.perSecond = rate;
  }
  // `cap: false` under a default still records the push, so it counts for later capped sends.
  const cap = checkCap(options.cap, 'cap');
  const check = cap === undefined ? defaultCap : cap || null;
  if (check !== undefined && (check || defaultCap)) controls.cap = { check, keep: Math.max(check?.max ?? 0, defaultCap?.max ?? 0) };
  return controls;
}

/** True when the send waits: for `at`, for each subscriber's local time, or for their quiet hours to end. */
export function isScheduled(controls: SendControls): boolean {
  return controls.at !== undefined || controls.localTime !== undefined || controls.quietHours !== undefined;
}

/** `at` as ms: a Date, ms since the epoch, or an ISO 8601 text with a date, a time and an offset. */
function instant(value: unknown, now: number): number {
  let at: number | undefined;
  if (value instanceof Date) at = value.getTime();
  else if (typeof value === 'number') at = value;
  else if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value)) at = Date.parse(value);
  if (at === undefined || !Number.isSafeInteger(at) || at < 0) {
    return invalid('at', 'must be a Date, ms since the epoch, or an ISO 8601 time with its offset (2030-01-01T09:00:00Z)');
  }
  if (at > now + MAX_SCHEDULE_AHEAD) invalid('at', 'is more than a year ahead');
  return at;
}
