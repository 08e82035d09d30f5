import { TidingsError } from './TidingsError.js';
import {
  ENVELOPE_VERSION,
  type Envelope,
  type EnvelopeAction,
  type EnvelopeCache,
  type EnvelopeNotification,
  type JsonValue,
  type NotificationDirection,
} from './protocol.js';

/** Bounds on what one envelope may hold. A push payload is at most ~4 KB anyway; fetched envelopes may be larger. */
export const envelopeLimits = {
  /** Characters of envelope JSON accepted at all (fetched envelopes may pass 4 KB). */
  text: 256 * 1024,
  shortText: 256,
  longText: 4096,
  url: 2048,
  actions: 100,
  cacheUrls: 50,
  dataDepth: 32,
} as const;

/**
 * Parses envelope JSON text. Throws only TidingsError `invalid-envelope`, with `reason`
 * saying why: `empty`, `too-large`, `json`, or what `validateEnvelope` found.
 */
export function parseEnvelope(text: string): Envelope {
  if (text.length === 0) fail('empty');
  if (text.length > envelopeLimits.text) fail('too-large');
  let value: unknown;
  try {
    value = JSON.parse(text);
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
 * Safari's declarative push shape (`{"web_push": 8030, "notification": {...}}`) is
 * accepted too and mapped onto an envelope, so one payload serves every browser.
 */
export function validateEnvelope(input: unknown): Envelope {
  if (!isRecord(input)) fail('not-object');
  if (input.web_push === 8030 && !('v' in input)) return fromDeclarative(input);
  const v = input.v;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail('version', 'v');
  if (Math.floor(v) !== ENVELOPE_VERSION) fail('unknown-version', 'v');

  const envelope: Envelope = { v: ENVELOPE_VERSION };
  if (input.id !== undefined) envelope.id = text(input.id, 'id', envelopeLimits.shortText, 1);
  if (input.ts !== undefined) envelope.ts = nonNegative(input.ts, 'ts');
  if (input.ttl !== undefined) envelope.ttl = nonNegative(input.ttl, 'ttl');
  if (input.notification !== undefined) envelope.notification = notification(input.notification);
  if (input.cache !== undefined) envelope.cache = cache(input.cache);
  if (input.type !== undefined) envelope.type = text(input.type, 'type', envelopeLimits.shortText, 1);
  if (input.data !== undefined) envelope.data = json(input.data, 'data', 0);
  if (input.analytics !== undefined) envelope.analytics = bool(input.analytics, 'analytics');
  if (input.sealed !== undefined) envelope.sealed = text(input.sealed, 'sealed', envelopeLimits.text, 1);
  if (input.fetch !== undefined) envelope.fetch = text(input.fetch, 'fetch', envelopeLimits.url, 1);
  return envelope;
}

function notification(value: unknown): EnvelopeNotification {
  const field = 'notification';
  if (!isRecord(value)) fail('not-object', field);
  const out: EnvelopeNotification = {};
  const { shortText, longText, url } = envelopeLimits;
  for (const key of ['title', 'tag', 'lang'] as const) {
    if (value[key] !== undefined) out[key] = text(value[key], `${field}.${key}`, shortText);
  }
  if (value.body !== undefined) out.body = text(value.body, `${field}.body`, longText);
  for (const key of ['icon', 'badge', 'image', 'url'] as const) {
    if (value[key] !== undefined) out[key] = text(value[key], `${field}.${key}`, url, 1);
  }
  for (const key of ['renotify', 'requireInteraction', 'silent'] as const) {
    if (value[key] !== undefined) out[key] = bool(value[key], `${field}.${key}`);
  }
  if (value.dir !== undefined) {
    if (value.dir !== 'auto' && value.dir !== 'ltr' && value.dir !== 'rtl') fail('enum', `${field}.dir`);
    out.dir = value.dir as NotificationDirection;
  }
  if (value.timestamp !== undefined) out.timestamp = nonNegative(value.timestamp, `${field}.timestamp`);
  if (value.actions !== undefined) out.actions = actions(value.actions);
  if (value.data !== undefined) out.data = json(value.data, `${field}.data`, 0);
  return out;
}

function actions(value: unknown): EnvelopeAction[] {
  const field = 'notification.actions';
  if (!Array.isArray(value)) fail('not-array', field);
  if (value.length > envelopeLimits.actions) fail('too-many', field);
  return value.map((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isRecord(item)) fail('not-object', at);
    const action: EnvelopeAction = {
      action: text(item.action, `${at}.action`, envelopeLimits.shortText, 1),
      title: text(item.title, `${at}.title`, envelopeLimits.shortText),
    };
    if (item.icon !== undefined) action.icon = text(item.icon, `${at}.icon`, envelopeLimits.url, 1);
    if (item.url !== undefined) action.url = text(item.url, `${at}.url`, envelopeLimits.url, 1);
    return action;
  });
}

function cache(value: unknown): EnvelopeCache {
  const field = 'cache';
  if (!isRecord(value)) fail('not-object', field);
  if (!Array.isArray(value.urls)) fail('not-array', `${field}.urls`);
  if (value.urls.length > envelopeLimits.cacheUrls) fail('too-many', `${field}.urls`);
  const out: EnvelopeCache = {
    urls: value.urls.map((u: unknown, i) => text(u, `${field}.urls[${i}]`, envelopeLimits.url, 1)),
  };
  if (value.cacheName !== undefined) {
    out.cacheName = text(value.cacheName, `${field}.cacheName`, envelopeLimits.shortText, 1);
  }
  return out;
}

/** Maps WebKit's declarative push JSON (PUSH-FACTS.md §6.8) onto an envelope. */
function fromDeclarative(input: Record<string, unknown>): Envelope {
  const source = input.notification;
  if (!isRecord(source)) fail('not-object', 'notification');
  const { navigate, app_badge: _badge, mutable: _mutable, ...rest } = source;
  const mapped = notification(rest);
  if (navigate !== undefined) mapped.url = text(navigate, 'notification.navigate', envelopeLimits.url, 1);
  return { v: ENVELOPE_VERSION, notification: mapped };
}

/** Copies JSON app data, dropping `__proto__` keys and bounding depth. */
function json(value: unknown, field: string, depth: number): JsonValue {
  if (depth > envelopeLimits.dataDepth) fail('too-deep', field);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('not-finite', field);
    return value;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => json(item, field, depth + 1));
  if (isRecord(value)) {
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(value)) {
      if (key === '__proto__') continue;
      out[key] = json(value[key], field, depth + 1);
    }
    return out;
  }
  fail('not-json', field);
}

function text(value: unknown, field: string, max: number, min = 0): string {
  if (typeof value !== 'string') fail('not-string', field);
  if (value.length < min) fail('empty', field);
  if (value.length > max) fail('too-long', field);
  return value;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') fail('not-boolean', field);
  return value;
}

function nonNegative(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail('not-non-negative-number', field);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(reason: string, field?: string): never {
  throw new TidingsError('invalid-envelope', field === undefined ? { reason } : { reason, field });
}
