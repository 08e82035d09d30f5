import { describe, expect, it } from 'vitest';
import { parseEnvelope, validateEnvelope, envelopeLimits } from '../../../src/shared/validateEnvelope.js';
import { TidingsError } from '../../../src/shared/TidingsError.js';

/** Runs `fn`, expects a TidingsError 'invalid-envelope', and returns its details. */
function rejection(fn: () => unknown): { reason?: string; field?: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TidingsError);
    expect((error as TidingsError).code).toBe('invalid-envelope');
    return (error as TidingsError).details;
  }
  throw new Error('expected a rejection');
}

describe('validateEnvelope: hostile input', () => {
  it.each([
    ['null', null],
    ['a number', 42],
    ['a string', 'hello'],
    ['an array', [{ v: 1 }]],
    ['undefined', undefined],
  ])('rejects %s as not-object', (_, input) => {
    expect(rejection(() => validateEnvelope(input))).toEqual({ reason: 'not-object' });
  });

  it('rejects an envelope without v', () => {
    expect(rejection(() => validateEnvelope({ notification: { title: 'x' } }))).toEqual({ reason: 'version', field: 'v' });
  });

  it.each([[2], [0], [99], [-1]])('rejects the unknown major version %s', (v) => {
    expect(rejection(() => validateEnvelope({ v }))).toEqual({ reason: 'unknown-version', field: 'v' });
  });

  it('rejects v given as a string, NaN or Infinity', () => {
    for (const v of ['1', Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(rejection(() => validateEnvelope({ v })).field).toBe('v');
    }
  });

  it('accepts a minor version of the known major', () => {
    expect(validateEnvelope({ v: 1.3 })).toEqual({ v: 1 });
  });

  it('rejects a huge string field instead of carrying it along', () => {
    const huge = 'x'.repeat(3 * 1024 * 1024);
    expect(rejection(() => validateEnvelope({ v: 1, notification: { title: huge } }))).toEqual({
      reason: 'too-long',
      field: 'notification.title',
    });
  });

  it('rejects envelope text over the size bound before parsing it', () => {
    const text = JSON.stringify({ v: 1, data: 'x'.repeat(envelopeLimits.text) });
    expect(rejection(() => parseEnvelope(text))).toEqual({ reason: 'too-large' });
  });

  it('rejects empty text and text that is not JSON', () => {
    expect(rejection(() => parseEnvelope(''))).toEqual({ reason: 'empty' });
    expect(rejection(() => parseEnvelope('{"v":1'))).toEqual({ reason: 'json' });
    expect(rejection(() => parseEnvelope('\uFFFD\uFFFD'))).toEqual({ reason: 'json' });
  });

  it('does not let __proto__ keys reach the envelope or Object.prototype', () => {
    const text = '{"v":1,"__proto__":{"polluted":true},"data":{"__proto__":{"polluted":true},"ok":1},"notification":{"__proto__":{"title":"evil"},"data":{"a":{"__proto__":{"polluted":true}}}}}';
    const envelope = parseEnvelope(text);
    expect(envelope).toEqual({ v: 1, data: { ok: 1 }, notification: { data: { a: {} } } });
    expect(Object.getPrototypeOf(envelope.data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(envelope.notification?.title).toBeUndefined();
  });

  it('drops unknown keys rather than passing them through', () => {
    const envelope = validateEnvelope({ v: 1, evil: '<script>', notification: { title: 't', onclick: 'x', vibrate: [1] } });
    expect(envelope).toEqual({ v: 1, notification: { title: 't' } });
  });

  it('rejects wrong types field by field', () => {
    const cases: [unknown, string][] = [
      [{ v: 1, id: 7 }, 'id'],
      [{ v: 1, id: '' }, 'id'],
      [{ v: 1, ts: -5 }, 'ts'],
      [{ v: 1, ts: '2026' }, 'ts'],
      [{ v: 1, ttl: Number.NaN }, 'ttl'],
      [{ v: 1, notification: 'hi' }, 'notification'],
      [{ v: 1, notification: { body: 5 } }, 'notification.body'],
      [{ v: 1, notification: { renotify: 'yes' } }, 'notification.renotify'],
      [{ v: 1, notification: { dir: 'up' } }, 'notification.dir'],
      [{ v: 1, notification: { url: '' } }, 'notification.url'],
      [{ v: 1, notification: { actions: {} } }, 'notification.actions'],
      [{ v: 1, notification: { actions: [{ title: 'no action' }] } }, 'notification.actions[0].action'],
      [{ v: 1, notification: { actions: [null] } }, 'notification.actions[0]'],
      [{ v: 1, cache: { urls: '/a' } }, 'cache.urls'],
      [{ v: 1, cache: { urls: [1] } }, 'cache.urls[0]'],
      [{ v: 1, type: ['chat'] }, 'type'],
      [{ v: 1, analytics: 'false' }, 'analytics'],
      [{ v: 1, sealed: 12 }, 'sealed'],
      [{ v: 1, fetch: {} }, 'fetch'],
      [{ v: 1, retry: 1 }, 'retry'],
    ];
    for (const [input, field] of cases) expect(rejection(() => validateEnvelope(input)).field, field).toBe(field);
  });

  it('bounds the count of actions and cache urls', () => {
    const actions = Array.from({ length: envelopeLimits.actions + 1 }, (_, i) => ({ action: `a${i}`, title: 't' }));
    expect(rejection(() => validateEnvelope({ v: 1, notification: { actions } })).reason).toBe('too-many');
    const urls = Array.from({ length: envelopeLimits.cacheUrls + 1 }, (_, i) => `/p${i}`);
    expect(rejection(() => validateEnvelope({ v: 1, cache: { urls } })).reason).toBe('too-many');
  });

  it('keeps 50 actions for the worker to cap at Notification.maxActions', () => {
    const actions = Array.from({ length: 50 }, (_, i) => ({ action: `a${i}`, title: `A${i}` }));
    expect(validateEnvelope({ v: 1, notification: { actions } }).notification?.actions).toHaveLength(50);
  });

  it('bounds the depth of app data', () => {
    let deep: unknown = 1;
    for (let i = 0; i <= envelopeLimits.dataDepth + 1; i++) deep = [deep];
    expect(rejection(() => validateEnvelope({ v: 1, data: deep }))).toEqual({ reason: 'too-deep', field: 'data' });
  });

  it('rejects values JSON cannot carry in app data', () => {
    expect(rejection(() => validateEnvelope({ v: 1, data: { f: () => 1 } })).reason).toBe('not-json');
    expect(rejection(() => validateEnvelope({ v: 1, data: { n: Number.POSITIVE_INFINITY } })).reason).toBe('not-finite');
  });

  it('never throws anything but TidingsError on random input', () => {
    const samples: unknown[] = [Symbol('s'), 10n, new Date(), new Map(), Object.create(null), () => 1];
    for (const sample of samples) expect(() => validateEnvelope(sample)).toThrow(TidingsError);
    for (let i = 0; i < 500; i++) {
      const bytes = Array.from({ length: 1 + (i % 40) }, (_, j) => String.fromCharCode(((i + 1) * (j + 7) * 31) % 127));
      try {
        parseEnvelope(bytes.join(''));
      } catch (error) {
        expect(error).toBeInstanceOf(TidingsError);
      }
    }
  });
});

describe('validateEnvelope: every field', () => {
  it('keeps every field of a full envelope, typed', () => {
    const full = {
      v: 1,
      id: '01JABCDEF',
      ts: 1764180000000,
      ttl: 3600,
      notification: {
        title: 'Title',
        body: 'Body',
        icon: '/icon.png',
        badge: '/badge.png',
        image: '/image.png',
        tag: 'news',
        renotify: true,
        requireInteraction: false,
        silent: false,
        lang: 'en',
        dir: 'ltr',
        timestamp: 1764180000000,
        url: '/articles/42',
        actions: [{ action: 'reply', title: 'Reply', icon: '/reply.png', url: '/reply/42' }],
        data: { thread: 42, tags: ['a', 'b'], nested: { ok: true, none: null } },
      },
      cache: { urls: ['/articles/42'], cacheName: 'tidings' },
      type: 'chat.message',
      data: { text: 'hi' },
      analytics: false,
      sealed: 'AAAA',
      fetch: '/api/push/messages/01JABCDEF',
      retry: true,
    };
    expect(validateEnvelope(full)).toEqual(full);
  });

  it('accepts the minimal envelope', () => {
    expect(parseEnvelope('{"v":1}')).toEqual({ v: 1 });
  });

  it('maps Safari declarative push JSON onto an envelope, badge inside notification as WebKit reads it', () => {
    const declarative = {
      web_push: 8030,
      notification: { title: 'Hi', body: 'There', navigate: 'https://example.com/x', app_badge: '1', mutable: true },
    };
    expect(validateEnvelope(declarative)).toEqual({
      v: 1,
      appBadge: 1,
      notification: { title: 'Hi', body: 'There', url: 'https://example.com/x' },
    });
  });
});

describe('declarative Web Push', () => {
  const declared = (notification: object, rest: object = {}) => ({ web_push: 8030, notification, ...rest });

  it('reads actions with navigate, require_interaction and the top-level app_badge of the spec', () => {
    const input = declared(
      {
        title: 'T',
        navigate: 'https://example.com/a',
        require_interaction: true,
        actions: [{ action: 'open', title: 'Open', navigate: 'https://example.com/b' }],
      },
      { app_badge: 7, mutable: true },
    );
    expect(validateEnvelope(input)).toEqual({
      v: 1,
      appBadge: 7,
      notification: {
        title: 'T',
        url: 'https://example.com/a',
        requireInteraction: true,
        actions: [{ action: 'open', title: 'Open', url: 'https://example.com/b' }],
      },
    });
  });

  it('keeps the tidings fields sent alongside, so the replay guard and routing see them', () => {
    const input = declared(
      { title: 'T', navigate: 'https://example.com/' },
      { id: 'm1', ts: 5, ttl: 60, type: 'chat', data: { n: 1 }, analytics: false, retry: true },
    );
    expect(validateEnvelope(input)).toEqual({
      v: 1,
      id: 'm1',
      retry: true,
      ts: 5,
      ttl: 60,
      type: 'chat',
      data: { n: 1 },
      analytics: false,
      notification: { title: 'T', url: 'https://example.com/' },
    });
  });

  it('clears the badge with 0 and takes the top-level badge over the one inside notification', () => {
    expect(validateEnvelope(declared({ title: 'T', app_badge: 3 }, { app_badge: 0 })).appBadge).toBe(0);
  });

  it.each([
    ['a negative badge', declared({ title: 'T' }, { app_badge: -1 }), 'appBadge', 'not-count'],
    ['a fractional badge', declared({ title: 'T' }, { app_badge: 1.5 }), 'appBadge', 'not-count'],
    ['a badge in exponent form', declared({ title: 'T', app_badge: '1e3' }), 'appBadge', 'not-count'],
    ['a badge past 2^53', declared({ title: 'T' }, { app_badge: 2 ** 60 }), 'appBadge', 'not-count'],
    ['a badge object', declared({ title: 'T' }, { app_badge: { valueOf: 1 } }), 'appBadge', 'not-count'],
    ['no notification object', { web_push: 8030, notification: 'x' }, 'notification', 'not-object'],
    ['actions that are not a list', declared({ title: 'T', actions: 'x' }), 'notification.actions', 'not-array'],
    ['an action that is not an object', declared({ title: 'T', actions: [7] }), 'notification.actions[0]', 'not-object'],
    ['a navigate that is not a string', declared({ title: 'T', navigate: 5 }), 'notification.url', 'not-string'],
    ['an unknown envelope version beside web_push', declared({ title: 'T' }, { v: 2 }), 'v', 'unknown-version'],
  ])('refuses %s', (_, input, field, reason) => {
    expect(() => validateEnvelope(input)).toThrow(expect.objectContaining({ code: 'invalid-envelope', details: { field, reason } }));
  });

  it('drops __proto__ and unknown keys of a declarative notification', () => {
    const input = JSON.parse('{"web_push":8030,"notification":{"title":"T","__proto__":{"polluted":1},"onclick":"x"}}');
    const out = validateEnvelope(input);
    expect(out.notification).toEqual({ title: 'T' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes appBadge in a tidings envelope too', () => {
    expect(validateEnvelope({ v: 1, appBadge: 4 })).toEqual({ v: 1, appBadge: 4 });
    expect(() => validateEnvelope({ v: 1, appBadge: '4' })).not.toThrow();
    expect(() => validateEnvelope({ v: 1, appBadge: true })).toThrow(expect.objectContaining({ details: { field: 'appBadge', reason: 'not-count' } }));
  });
});
