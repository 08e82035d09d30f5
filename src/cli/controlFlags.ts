// The sending controls as `tidings send` flags (docs/controls.md): each read here into
// send()'s options, which check their values again with their own messages.
import { readFileSync } from 'node:fs';
import type { SendOptions } from '../server/index.js';
import type { OptionSpec } from './options.js';
import { UsageError } from './UsageError.js';

export const controlFlags = {
  at: { type: 'string' },
  'local-time': { type: 'string' },
  'time-zone': { type: 'string' },
  quiet: { type: 'string' },
  'per-second': { type: 'string' },
  cap: { type: 'string' },
  locales: { type: 'string' },
} as const satisfies OptionSpec;

export interface ControlValues {
  at?: string | undefined;
  'local-time'?: string | undefined;
  'time-zone'?: string | undefined;
  quiet?: string | undefined;
  'per-second'?: string | undefined;
  cap?: string | undefined;
  locales?: string | undefined;
}

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * `--at` (an ISO 8601 time with its offset, or ms since the epoch), `--local-time HH:MM`,
 * `--time-zone ZONE`, `--quiet HH:MM-HH:MM`, `--per-second N`, `--cap MAX/PER` (`3/1d`)
 * and `--locales FILE.json` as send() options; UsageError (exit 2) for a malformed one.
 */
export function controlsFromFlags(values: ControlValues): SendOptions {
  const options: SendOptions = {};
  if (values.at !== undefined) {
    if (/^\d{1,15}$/.test(values.at)) options.at = Number(values.at);
    else if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(values.at)) options.at = values.at;
    else throw new UsageError('--at must be an ISO 8601 time with its offset (2030-01-01T09:00:00Z) or ms since the epoch');
  }
  if (values['local-time'] !== undefined) {
    if (!CLOCK.test(values['local-time'])) throw new UsageError('--local-time must be HH:MM (24-hour), e.g. 09:00');
    options.localTime = values['local-time'];
  }
  if (values['time-zone'] !== undefined) options.timeZone = values['time-zone'];
  if (values.quiet !== undefined) {
    const [from, to, ...rest] = values.quiet.split('-');
    if (rest.length > 0 || !from || !to || !CLOCK.test(from) || !CLOCK.test(to)) throw new UsageError('--quiet must be HH:MM-HH:MM, e.g. 22:00-08:00');
    options.quietHours = [from, to];
  }
  if (values['per-second'] !== undefined) {
    if (!/^\d{1,6}$/.test(values['per-second']) || Number(values['per-second']) < 1) throw new UsageError('--per-second must be a whole number >= 1');
    options.perSecond = Number(values['per-second']);
  }
  if (values.cap !== undefined) {
    const match = /^(\d{1,3})\/(\d{1,4}[mhd])$/.exec(values.cap);
    if (!match) throw new UsageError('--cap must be MAX/PER, e.g. 3/1d (per: 30m, 12h, 1d, 7d)');
    options.cap = { max: Number(match[1]), per: match[2]! };
  }
  if (values.locales !== undefined) options.locales = localesFromFile(values.locales);
  return options;
}

/** `--locales FILE.json`: `{ "fr": { "notification": { "title": …, "body": … } }, … }`. */
function localesFromFile(file: string): NonNullable<SendOptions['locales']> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new UsageError(`--locales ${file}: ${(cause as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--locales ${file} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--locales ${file} must hold a JSON object: {"fr": {"notification": {"title": "…"}}}`);
  }
  return parsed as NonNullable<SendOptions['locales']>;
}
