import { beforeEach, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { createPushWorker } from '../../../src/worker/createPushWorker.js';
import { setValue, openTidingsDB } from '../../../src/worker/db.js';
import { dispatch, eventsRoute, FakePushEvent, getRoute, installScope, type FakeScope } from './support/fakeScope.js';
import { makeSealKey } from './support/sealKey.js';

// Every bad input of the issue: each ends with a visible notification when one is owed,
// a `failed` event with a reason, and no exception escaping the event.
const backend = '/api/push';
let s: FakeScope;
beforeEach(() => {
  s = installScope({ routes: [eventsRoute()] });
});

async function push(payload: string | Uint8Array | null | object, options = {}) {
  const worker = createPushWorker({ backend, defaultNotification: { title: 'Default' }, ...options });
  await dispatch(worker.handlePush, new FakePushEvent(payload));
  return worker;
}
const failures = () => s.events().filter((e) => e.type === 'failed').map((e) => e.reason);
const titles = () => s.notifications.map((n) => n.title);

describe('bad input', () => {
  it.each([
    ['no payload', null, 'empty'],
    ['an empty payload', '', 'empty'],
    ['non-UTF-8 bytes', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'utf8'],
    ['non-JSON', 'not json {', 'json'],
    ['JSON that is not an object', '[1,2]', 'not-object'],
    ['an object that is not an envelope', { hello: 'world' }, 'version'],
    ['an unknown envelope version', { v: 2, notification: { title: 'from the future' } }, 'unknown-version'],
    ['a 3 MB string', 'x'.repeat(3 * 1024 * 1024), 'too-large'],
    ['a 3 MB JSON envelope', JSON.stringify({ v: 1, data: 'x'.repeat(3 * 1024 * 1024) }), 'too-large'],
    ['a field of the wrong type', { v: 1, notification: { title: 42 } }, 'not-string'],
    ['a prototype-polluting envelope', '{"v":1,"__proto__":{"polluted":true},"notification":{"title":"ok"}}', undefined],
  ])('%s shows the default notification and records why', async (_, payload, reason) => {
    await push(payload);
    if (reason === undefined) {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(titles()).toEqual(['ok']);
      return;
    }
    expect(titles()).toEqual(['Default']);
    expect(failures()).toEqual([reason]);
  });

  it('a sealed record that is truncated, tampered or sealed to another key fails with reason unseal', async () => {
    const key = await makeSealKey();
    const db = await openTidingsDB();
    await setValue(db, 'sealKey', key.stored);
    db.close();
    const record = new Uint8Array(webpush.encrypt(key.p256dh, key.auth, JSON.stringify({ v: 1, notification: { title: 'secret' } }), 'aes128gcm').cipherText);
    const other = await makeSealKey();
    const elsewhere = new Uint8Array(webpush.encrypt(other.p256dh, other.auth, '{"v":1}', 'aes128gcm').cipherText);
    const tampered = record.slice();
    tampered[tampered.length - 3]! ^= 0x40;
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
    const worker = createPushWorker({ backend, defaultNotification: { title: 'Default' } });
    for (const sealed of [b64(record.slice(0, 90)), b64(tampered), b64(elsewhere), 'not base64!']) {
      await dispatch(worker.handlePush, new FakePushEvent({ v: 1, sealed }));
    }
    expect(s.shownLog.map((n) => n.title)).toEqual(['Default', 'Default', 'Default', 'Default']);
    expect(failures()).toEqual(['unseal', 'unseal', 'unseal', 'unseal']);
  });

  it('a sealed envelope without a stored seal key fails with reason unseal', async () => {
    await push({ v: 1, id: 'm1', sealed: 'AAAA' });
    expect(titles()).toEqual(['Default']);
    expect(s.events().find((e) => e.type === 'failed')).toMatchObject({ reason: 'unseal', messageId: 'm1' });
  });

  it('a fetch URL on another origin is refused without a request', async () => {
    await push({ v: 1, id: 'm1', fetch: 'https://evil.example/msg' });
    expect(s.requests.filter((r) => r.method === 'GET')).toEqual([]);
    expect(titles()).toEqual(['Default']);
    expect(failures()).toEqual(['url-refused']);
  });

  it('a fetch that keeps failing is retried once, then the default is shown', async () => {
    s.routes.unshift(getRoute('/msg/1', 'down', 503));
    await push({ v: 1, id: 'm1', fetch: '/msg/1' });
    expect(s.requests.filter((r) => r.method === 'GET')).toHaveLength(2);
    expect(titles()).toEqual(['Default']);
    expect(failures()).toEqual(['fetch']);
  });

  it('a fetch that answers garbage fails as an invalid envelope', async () => {
    s.routes.unshift(getRoute('/msg/1', '<html>'));
    await push({ v: 1, fetch: '/msg/1' });
    expect(failures()).toEqual(['json']);
  });

  it('a notification with 50 actions shows at most Notification.maxActions of them', async () => {
    const actions = Array.from({ length: 50 }, (_, i) => ({ action: `a${i}`, title: `A${i}` }));
    await push({ v: 1, notification: { title: 'many', actions } });
    expect(s.notifications[0]!.actions!.map((a) => a.action)).toEqual(['a0', 'a1']);
    expect(failures()).toEqual([]);
  });

  it('a javascript: url is kept on the notification but refused on click (see clicks)', async () => {
    await push({ v: 1, id: 'm1', notification: { title: 'x', url: 'javascript:alert(1)' } });
    expect(s.notifications[0]!.data.__tidings.url).toBe('javascript:alert(1)');
  });

  it('a handler that throws is recorded and the others still run', async () => {
    const worker = createPushWorker({ backend });
    worker.on('boom', () => {
      throw new Error('bug');
    });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, type: 'boom', data: 1, notification: { title: 'still here' } }));
    expect(titles()).toEqual(['still here']);
    expect(failures()).toEqual(['handler']);
  });

  it('a handler that never resolves is cut off by the timeout', async () => {
    const worker = createPushWorker({ backend, timeout: 250, defaultNotification: { title: 'Default' } });
    worker.on('hang', () => new Promise(() => undefined));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, type: 'hang', data: 1 }));
    expect(titles()).toEqual(['Default']);
    expect(failures()).toEqual(['timeout']);
  });

  it('a notificationWillShow hook that throws is skipped', async () => {
    const worker = createPushWorker({ backend });
    worker.use({
      notificationWillShow() {
        throw new Error('plugin bug');
      },
    });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, notification: { title: 'shown anyway' } }));
    expect(titles()).toEqual(['shown anyway']);
  });

  it('renotify without a tag (which Chrome throws for) is dropped', async () => {
    await push({ v: 1, notification: { title: 'x', renotify: true } });
    expect(titles()).toEqual(['x']);
  });
});

describe('IndexedDB unavailable (private modes)', () => {
  beforeEach(() => {
    s = installScope({ routes: [eventsRoute()], noIndexedDB: true });
  });

  it('still shows notifications, and sends events from memory', async () => {
    await push({ v: 1, id: 'm1', notification: { title: 'Hello' } });
    expect(titles()).toEqual(['Hello']);
    expect(s.events().map((e) => e.type)).toEqual(['delivered', 'shown']);
  });

  it('still shows the default for garbage, with a failed event', async () => {
    await push('garbage');
    expect(titles()).toEqual(['Default']);
    expect(failures()).toEqual(['json']);
  });

  it('cannot open a sealed envelope, and says so', async () => {
    await push({ v: 1, sealed: 'AAAA' });
    expect(titles()).toEqual(['Default']);
    expect(failures()).toEqual(['unseal']);
  });
});
