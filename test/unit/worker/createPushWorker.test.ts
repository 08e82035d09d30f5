import { beforeEach, describe, expect, it } from 'vitest';
import { createPushWorker } from '../../../src/worker/createPushWorker.js';
import { isTidingsError } from '../../../src/shared/TidingsError.js';
import { dispatch, FakePushEvent, installScope, type FakeScope } from './support/fakeScope.js';

let s: FakeScope;
beforeEach(() => {
  s = installScope();
});

const vapid = 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';

describe('createPushWorker', () => {
  it('does nothing at creation: no listener, no storage, no request', () => {
    createPushWorker({ backend: '/api/push' });
    expect(s.listeners.size).toBe(0);
    expect(s.requests).toEqual([]);
  });

  it('listen() adds every listener once', () => {
    const worker = createPushWorker();
    expect(worker.listen()).toBe(worker);
    worker.listen();
    expect([...s.listeners.keys()].sort()).toEqual(
      ['message', 'notificationclick', 'notificationclose', 'push', 'pushnotification', 'pushsubscriptionchange', 'sync'].sort(),
    );
    for (const list of s.listeners.values()) expect(list).toHaveLength(1);
  });

  it('its handlers work unbound, as listeners', async () => {
    const { handlePush } = createPushWorker();
    await dispatch(handlePush, new FakePushEvent({ v: 1, notification: { title: 'unbound' } }));
    expect(s.notifications.map((n) => n.title)).toEqual(['unbound']);
  });

  it('accepts every documented option', () => {
    expect(() =>
      createPushWorker({
        backend: 'https://api.example/push/',
        vapidPublicKey: vapid,
        defaultNotification: { title: 'T', body: 'B', icon: '/i.png', badge: '/b.png', tag: 'x' },
        allowedOrigins: ['https://shop.example', 'http://localhost:8080/'],
        foreground: 'message',
        ignoreForeign: true,
        cache: { name: 'news', maxEntries: 10 },
        analytics: { batchSize: 50, maxQueue: 100 },
        timeout: 5000,
      }),
    ).not.toThrow();
    expect(() => createPushWorker({ analytics: false })).not.toThrow();
  });

  it.each([
    ['options', 'nope'],
    ['backend', { backend: 42 }],
    ['backend', { backend: 'http://[bad' }],
    ['vapidPublicKey', { vapidPublicKey: 'short' }],
    ['vapidPublicKey', { vapidPublicKey: 'not base64!' }],
    ['defaultNotification', { defaultNotification: { body: 'no title' } }],
    ['allowedOrigins', { allowedOrigins: 'https://a.example' }],
    ['allowedOrigins', { allowedOrigins: ['javascript:alert(1)'] }],
    ['allowedOrigins', { allowedOrigins: ['relative/path'] }],
    ['foreground', { foreground: 'loud' }],
    ['ignoreForeign', { ignoreForeign: 'yes' }],
    ['cache.name', { cache: { name: '' } }],
    ['cache.maxEntries', { cache: { maxEntries: 0 } }],
    ['cache.maxEntries', { cache: { maxEntries: 1.5 } }],
    ['analytics', { analytics: 'on' }],
    ['analytics.batchSize', { analytics: { batchSize: -1 } }],
    ['analytics.maxQueue', { analytics: { maxQueue: Infinity } }],
    ['timeout', { timeout: 0 }],
    ['timeout', { timeout: NaN }],
  ])('refuses a bad %s with TidingsError invalid-option', (option, options) => {
    let error: unknown;
    try {
      createPushWorker(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(isTidingsError(error, 'invalid-option')).toBe(true);
    expect((error as { details: { option: string } }).details.option).toBe(option);
  });

  it('refuses a handler that is neither a function nor an object with handle', () => {
    const worker = createPushWorker();
    expect(() => worker.on('x', 42 as never)).toThrow(/handler/);
    expect(() => worker.on('', () => 1)).toThrow(/type/);
    expect(() => worker.use(null as never)).toThrow(/hooks/);
  });
});

describe('ignoreForeign', () => {
  it('leaves a push that is not a tidings envelope to the other listeners', async () => {
    const worker = createPushWorker({ ignoreForeign: true });
    for (const payload of ['{"notification":{"title":"from another provider"}}', 'plain text', null]) {
      const event = await dispatch(worker.handlePush, new FakePushEvent(payload));
      expect(event.promises).toEqual([]);
    }
    expect(s.shownLog).toEqual([]);
  });

  it('still handles tidings envelopes, including ones that fail later', async () => {
    const worker = createPushWorker({ ignoreForeign: true, defaultNotification: { title: 'Default' } });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, notification: { title: 'ours' } }));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, sealed: 'AAAA' }));
    expect(s.shownLog.map((n) => n.title)).toEqual(['ours', 'Default']);
  });
});

describe('on<Data>: typed pushed data', () => {
  interface ChatMessage {
    from: string;
    text: string;
  }

  it('hands the handler data typed as the site declared it, function or object', async () => {
    const got: string[] = [];
    const worker = createPushWorker()
      .on<ChatMessage>('chat', (message) => {
        // Compiles only because `message` is a ChatMessage (npm run typecheck checks this file).
        got.push(`${message.from}: ${message.text}`);
        // @ts-expect-error a ChatMessage has no `count`
        void message.count;
      })
      .on<ChatMessage>('chat.object', { handle: (message) => void got.push(message.from.toUpperCase()) });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, type: 'chat', data: { from: 'ann', text: 'hi' } }));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, type: 'chat.object', data: { from: 'bob', text: 'yo' } }));
    expect(got).toEqual(['ann: hi', 'BOB']);
  });

  it('defaults to JsonValue | undefined', () => {
    createPushWorker().on('any', (data) => {
      // @ts-expect-error data may be undefined or not a string
      const text: string = data;
      void text;
    });
  });
});
