// Wall-clock time in IANA time zones, with nothing but Intl: the local time of an instant,
// the instant of a local time, and quiet hours. Used by `localTime` and `quietHours`
// (sendControls.ts) and by the registration check of the `timeZone` attribute.

const MINUTE = 60_000;
const DAY_MINUTES = 24 * 60;

/** Formatters per zone: building one costs far more than using it, and a send asks per zone many times. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    // The zones of one audience are a few hundred at most; past 1000 start again.
    if (formatters.size >= 1000) formatters.clear();
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  return format;
}

/**
 * The zone's name as this runtime knows it (`europe/paris` -> `Europe/Paris`, `US/Eastern`
 * -> `America/New_York`), or undefined when it knows no such zone. Offsets (`+01:00`) are
 * not zones: their rules never change, so they would be wrong half of the year.
 */
export function knownTimeZone(zone: unknown): string | undefined {
  if (typeof zone !== 'string' || !/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(zone)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Minutes after midnight of a 24-hour `HH:MM` (`09:00`, `22:30`), or undefined when it is not one. */
export function parseClockTime(text: unknown): number | undefined {
  const match = typeof text === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text) : null;
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** The wall clock of `instant` in `zone`, as the ms it would be if that wall clock were UTC. */
function wallClock(instant: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const { type, value } of formatter(zone).formatToParts(instant)) parts[type] = Number(value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + (instant % 1000);
}

/** Minutes after local midnight of `instant` in `zone`. */
export function localMinutes(instant: number, zone: string): number {
  const wall = wallClock(instant, zone);
  return Math.floor((wall - Math.floor(wall / 86_400_000) * 86_400_000) / MINUTE);
}

/**
 * The instant at which `zone`'s clocks show `wall` (a wall clock written as UTC ms), tried
 * with the offsets a day before and a day after (so either side of a clock change). A
 * wall time shown twice (the night clocks go back) is the first; one skipped (02:30 the
 * night they go forward) is read with the offset before the change, so it lands as much
 * later as the clocks jumped (03:30), as cron does.
 */
function instantOf(wall: number, zone: string): number {
  const before = wall - (wallClock(wall - 86_400_000, zone) - (wall - 86_400_000));
  const after = wall - (wallClock(wall + 86_400_000, zone) - (wall + 86_400_000));
  const shown = [before, after].filter((instant) => wallClock(instant, zone) === wall);
  return shown.length > 0 ? Math.min(...shown) : before;
}

/** The first instant at or after `after` when `zone`'s clocks show `minutes` after midnight. */
export function nextLocalTime(after: number, minutes: number, zone: string): number {
  const wall = wallClock(after, zone);
  const midnight = Math.floor(wall / 86_400_000) * 86_400_000;
  // Today's, else tomorrow's; a day with a clock change may need the day after.
  for (let day = 0; day < 3; day++) {
    const instant = instantOf(midnight + day * 86_400_000 + minutes * MINUTE, zone);
    if (instant >= after) return instant;
  }
  return instantOf(midnight + 3 * 86_400_000 + minutes * MINUTE, zone);
}

/** Quiet hours: from and to, minutes after local midnight; `from > to` spans midnight (22:00-08:00). */
export type QuietHours = readonly [from: number, to: number];

/** When `zone`'s quiet hours around `instant` end, or undefined when `instant` is outside them. */
export function quietHoursEnd(instant: number, [from, to]: QuietHours, zone: string): number | undefined {
  const now = localMinutes(instant, zone);
  const quiet = from < to ? now >= from && now < to : now >= from || now < to;
  return quiet ? nextLocalTime(instant, to, zone) : undefined;
}

/** The length of quiet hours in minutes (for checks: quiet all day long is refused). */
export function quietMinutes([from, to]: QuietHours): number {
  return (to - from + DAY_MINUTES) % DAY_MINUTES;
}
