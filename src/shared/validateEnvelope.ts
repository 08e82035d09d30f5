import { TidingsError } from './TidingsError.js';
import { ENVELOPE_VERSION, type Envelope, type JsonValue } from './protocol.js';

// Bounds on what one envelope may hold. A push payload is at most ~4 KB anyway; fetched
// envelopes may be larger. Plain constants, so the bundles carry numbers, not an object.
const TEXT = 256 * 1024;
const SHORT = 256;
const LONG = 4096;
const URL = 2048;
const ACTIONS = 100;
const CACHE_URLS = 50;
const DEPTH = 32;

/** The bounds above, for tests and docs. */
export const envelopeLimits = {
  /** Characters of envelope JSON accepted at all (fetched envelopes may pass 4 KB). */
  text: TEXT,
  shortText: SHORT,
  longText: LONG,
  url: URL,
  actions: ACTIONS,
  cacheUrls: CACHE_URLS,
  dataDepth: DEPTH,
} as const;

/**
 * One check: takes the raw value and the field's path (for the error), returns the typed
 * value or throws TidingsError `invalid-envelope`. Every field of the envelope is one of
 * these, put together by the tables below.
 */
type Rule = (value: unknown, field: string) => unknown;

const text =
  (max: number, min = 0): Rule =>
  (value, field) =>
    typeof value != 'string'
      ? fail('not-string', field)
      : value.length < min
        ? fail('empty', field)
        : value.length > max
          ? fail('too-long', field)
          : value;

const bool: Rule = (value, field) => (typeof value == 'boolean' ? value : fail('not-boolean', field));

const nonNegative: Rule = (value, field) =>
  typeof value == 'number' && value >= 0 && value < Infinity ? value : fail('not-non-negative-number', field);

/**
 * An app badge count: a whole number >= 0 (0 clears the badge), or a string of digits,
 * as WebKit's declarative `app_badge` allows.
 */
const count: Rule = (value, field) =>
  typeof value == 'string' && /^\d{1,15}$/.test(value)
    ? +value
    : Number.isSafeInteger(value) && (value as number) >= 0
      ? value
      : fail('not-count', field);

const oneOf =
  (...allowed: string[]): Rule =>
  (value, field) =>
    allowed.includes(value as string) ? value : fail('enum', field);

/** JSON app data, copied: `__proto__` keys dropped, depth bounded. */
const json = (value: unknown, field: string, depth = 0): JsonValue => {
  if (depth > DEPTH) fail('too-deep', field);
  if (value === null || typeof value == 'string' || typeof value == 'boolean') return value;
  if (typeof value == 'number') return Number.isFinite(value) ? value : fail('not-finite', field);
  if (Array.isArray(value)) return value.map((item: unknown) => json(item, field, depth + 1));
  if (!isRecord(value)) fail('not-json', field);
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value)) if (key != '__proto__') out[key] = json(value[key], field, depth + 1);
  return out;
};

/** An array of at most `max` items, each checked by `item`; paths read `field[i]`. */
const list =
  (max: number, item: Rule): Rule =>
  (value, field) => {
    if (!Array.isArray(value)) fail('not-array', field);
    if (value.length > max) fail('too-many', field);
    return value.map((v: unknown, i) => item(v, `${field}[${i}]`));
  };

/**
 * An object built from the fields of `optional` (checked when present) and `required`
 * (always checked), in table order, so the first bad field is the one reported. Keys not
 * in the tables are dropped, so nothing unknown (not even `__proto__`) passes through.
 */
const shape =
  (optional: Record<string, Rule>, required: Record<string, Rule> = {}): Rule =>
  (value, field) => {
    if (!isRecord(value)) fail('not-object', field);
    const out: Record<string, unknown> = {};
    const check = (rules: Record<string, Rule>, all?: boolean) => {
      for (const key in rules) {
        if (all || value[key] !== undefined) out[key] = rules[key]!(value[key], field ? `${field}.${key}` : key);
      }
    };
    check(required, true);
    check(optional);
    return out;
  };

const url = text(URL, 1);
const short = text(SHORT);
const name = text(SHORT, 1);

const notification = shape({
  title: short,
  tag: short,
  lang: short,
  body: text(LONG),
  icon: url,
  badge: url,
  image: url,
  url,
  renotify: bool,
  requireInteraction: bool,
  silent: bool,
  dir: oneOf('auto', 'ltr', 'rtl'),
  timestamp: nonNegative,
  actions: list(ACTIONS, shape({ icon: url, url }, { action: name, title: short })),
  data: json,
});

/** Every field of an envelope but `v`, in the order they are checked. */
const envelope = shape({
  id: name,
  ts: nonNegative,
  ttl: nonNegative,
  notification,
  cache: shape({ cacheName: name }, { urls: list(CACHE_URLS, url) }),
  type: name,
  data: json,
  appBadge: count,
  analytics: bool,
  sealed: text(TEXT, 1),
  fetch: url,
  retry: bool,
});

/**
 * Parses envelope JSON text. Throws only TidingsError `invalid-envelope`, with `reason`
 * saying why: `empty`, `too-large`, `json`, or what `validateEnvelope` found.
 */
export function parseEnvelope(raw: string): Envelope {
  if (!raw) fail('empty');
  if (raw.length > TEXT) fail('too-large');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    fail('json');
  }
  return validateEnvelope(value);
}

/**
 * Turns unknown input into a typed envelope built from known fields only (unknown keys
 * are dropped, `__proto__` keys in app data are dropped), or throws TidingsError
 * `invalid-envelope` naming the field. Never throws anything else.
 *
 * Declarative Web Push JSON (`{"web_push": 8030, "notification": {...}}`, PUSH-FACTS 6.8)
 * is accepted too and read as an envelope, so one payload serves every browser: `navigate`
 * becomes `url` (actions too), `require_interaction` `requireInteraction`, `app_badge`
 * (top level as the spec puts it, or in `notification` as WebKit reads it) `appBadge`,
 * and tidings fields sent alongside (`id`, `ts`, `data`...) keep their meaning. Such a
 * payload needs no `v`; `mutable` only concerns the browser.
 */
export function validateEnvelope(input: unknown): Envelope {
  if (!isRecord(input)) fail('not-object');
  const declarative = input.web_push === 8030;
  if (!declarative || 'v' in input) {
    const v = input.v;
    if (typeof v != 'number' || !Number.isFinite(v)) fail('version', 'v');
    if (Math.floor(v) !== ENVELOPE_VERSION) fail('unknown-version', 'v');
  }
  return { v: ENVELOPE_VERSION, ...(envelope(declarative ? fromDeclarative(input) : input, '') as object) };
}

/** The declarative field names mapped onto the envelope's; the envelope's rules then check them. */
function fromDeclarative(input: Record<string, unknown>): Record<string, unknown> {
  const n = input.notification;
  if (!isRecord(n)) fail('not-object', 'notification');
  const navigate = (a: unknown) => (isRecord(a) ? { ...a, url: a.navigate } : a);
  return {
    ...input,
    appBadge: input.app_badge ?? n.app_badge,
    notification: {
      ...(navigate(n) as object),
      requireInteraction: n.require_interaction,
      actions: Array.isArray(n.actions) ? n.actions.map(navigate) : n.actions,
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value == 'object' && value !== null && !Array.isArray(value);
}

function fail(reason: string, field?: string): never {
  throw new TidingsError('invalid-envelope', { reason, field });
}
