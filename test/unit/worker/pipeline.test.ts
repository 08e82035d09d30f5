import { beforeEach, describe, expect, it, vi } from 'vitest';
import webpush from 'web-push';
import { createPushWorker } from '../../../src/worker/createPushWorker.js';
import { openTidingsDB, setValue } from '../../../src/worker/db.js';
import { dispatch, eventsRoute, FakePushEvent, getRoute, installScope, type FakeScope } from './support/fakeScope.js';
import { makeSealKey } from './support/sealKey.js';

const backend = '/api/push';
let s: FakeScope;
beforeEach(() => {
  s = installScope({ routes: [eventsRoute()] });
});
const titles = () => s.notifications.map((n) => n.title);
const types = () => s.events().map((e) => e.type);

describe('decode and route', () => {
  it('shows the envelope notification from an allowlist of fields, marked as tidings own', async () => {
    const worker = createPushWorker({ backend });
    const envelope = {
      v: 1,
      id: 'm1',
      notification: {
        title: 'Hello',
        body: 'World',
        icon: '/i.png',
        tag: 't',
        renotify: true,
        url: '/articles/1',
        actions: [{ action: 'reply', title: 'Reply', url: '/reply/1' }, { action: 'later', title: 'Later' }],
        data: { articleId: 1 },
        vibrate: [1, 2, 3],
        onclick: 'alert(1)',
      },
    };
    await dispatch(worker.handlePush, new FakePushEvent(envelope));
    const [shown] = s.notifications;
    expect(shown!.title).toBe('Hello');
    expect(shown!.options).not.toHaveProperty('vibrate');
    expect(shown!.options).not.toHaveProperty('onclick');
    expect(shown!.options).toMatchObject({ body: 'World', icon: '/i.png', tag: 't', renotify: true });
    expect(shown!.actions).toEqual([
      { action: 'reply', title: 'Reply', icon: undefined },
      { action: 'later', title: 'Later', icon: undefined },
    ]);
    expect(shown!.data).toEqual({
      __tidings: { messageId: 'm1', url: '/articles/1', actions: { reply: '/reply/1' }, analytics: true },
      data: { articleId: 1 },
    });
    expect(s.events()).toMatchObject([
      { type: 'delivered', messageId: 'm1' },
      { type: 'shown', messageId: 'm1' },
    ]);
    const ids = s.events().map((e) => e.id);
    expect(new Set(ids).size).toBe(2);
  });

  it('passes every action where the browser has no Notification.maxActions', async () => {
    s = installScope({ routes: [eventsRoute()], maxActions: undefined });
    const actions = Array.from({ length: 3 }, (_, i) => ({ action: `a${i}`, title: `A${i}` }));
    await dispatch(createPushWorker().handlePush, new FakePushEvent({ v: 1, notification: { title: 'x', actions } }));
    expect(s.notifications[0]!.actions).toHaveLength(3);
  });

  it("accepts Safari's declarative push JSON", async () => {
    await dispatch(
      createPushWorker().handlePush,
      new FakePushEvent({ web_push: 8030, notification: { title: 'Declared', navigate: 'https://site.example/x' } }),
    );
    expect(titles()).toEqual(['Declared']);
    expect(s.notifications[0]!.data.__tidings.url).toBe('https://site.example/x');
  });

  it('posts data to the open tabs of the site as a tidings message', async () => {
    s = installScope({ routes: [eventsRoute()], windows: [{ url: '/a' }, { url: '/b' }] });
    const envelope = { v: 1, id: 'm1', data: { n: 1 }, notification: { title: 'x' } };
    await dispatch(createPushWorker().handlePush, new FakePushEvent(envelope));
    for (const client of s.windows) {
      expect(client.messages).toEqual([{ source: 'tidings', kind: 'push-data', data: { n: 1 }, envelope }]);
    }
  });

  it('routes data to the handler registered for its type, with a context', async () => {
    const worker = createPushWorker({ backend });
    const seen: unknown[] = [];
    worker.on('chat.message', (data, context) => {
      seen.push(data, context.envelope.id);
      return context.showNotification('From the handler', { body: 'b', data: { x: 1 } });
    });
    worker.on('other', { handle: () => seen.push('other') });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'm1', type: 'chat.message', data: { text: 'hi' } }));
    expect(seen).toEqual([{ text: 'hi' }, 'm1']);
    // The handler's notification counts: no default on top of it.
    expect(titles()).toEqual(['From the handler']);
    expect(s.notifications[0]!.data).toEqual({ __tidings: { messageId: 'm1', analytics: true }, data: { x: 1 } });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, type: 'other', data: null }));
    expect(seen).toContain('other');
  });

  it('runs handlers concurrently: a slow cache does not delay the notification', async () => {
    let release!: () => void;
    s.routes.unshift((request) =>
      request.url.endsWith('/slow') ? new Promise<Response>((resolve) => (release = () => resolve(new Response('ok')))) : undefined,
    );
    const worker = createPushWorker();
    const event = new FakePushEvent({ v: 1, notification: { title: 'fast' }, cache: { urls: ['/slow'] } });
    worker.handlePush(event as never);
    await vi.waitFor(() => expect(titles()).toEqual(['fast']));
    release();
    await event.settled();
  });

  it('shows the default notification for a data-only push when no tab is in front', async () => {
    await dispatch(createPushWorker({ defaultNotification: { title: 'Default', body: 'b' } }).handlePush, new FakePushEvent({ v: 1, data: 1 }));
    expect(titles()).toEqual(['Default']);
    expect(s.notifications[0]!.tag).toBe('tidings');
  });

  it('defaults to the host name as the default title', async () => {
    await dispatch(createPushWorker().handlePush, new FakePushEvent('x'));
    expect(s.notifications[0]).toMatchObject({ title: 'site.example', body: 'New notification' });
  });

  it('a notificationWillShow hook may edit the notification, and one returning false cancels it (the default shows instead)', async () => {
    const worker = createPushWorker({ defaultNotification: { title: 'Default' } }).use({
      notificationWillShow(draft) {
        draft.title = draft.title.toUpperCase();
      },
    });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, notification: { title: 'loud' } }));
    expect(titles()).toEqual(['LOUD']);
    const shown = vi.fn();
    worker.use({ notificationWillShow: (draft) => ({ ...draft, title: 'replaced' }), notificationDidShow: shown });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, notification: { title: 'x', tag: 'y' } }));
    expect(titles()).toContain('replaced');
    expect(shown).toHaveBeenCalledWith(expect.objectContaining({ title: 'replaced' }));
    worker.use({ notificationWillShow: () => false });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, notification: { title: 'cancelled' } }));
    expect(s.shownLog.map((n) => n.title)).toEqual(['LOUD', 'replaced', 'Default']);
  });

  it('reports failures to pushDidFail hooks', async () => {
    const failed = vi.fn();
    const worker = createPushWorker().use({ pushDidFail: failed });
    await dispatch(worker.handlePush, new FakePushEvent('nope'));
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ reason: 'json' }));
  });
});

describe('foreground', () => {
  const focused = [{ url: '/', focused: true, visibilityState: 'visible' as const }];
  const envelope = { v: 1, notification: { title: 'Hi' } };

  it("'both' (default) shows the notification and posts it to the tab", async () => {
    s = installScope({ windows: focused });
    await dispatch(createPushWorker().handlePush, new FakePushEvent(envelope));
    expect(titles()).toEqual(['Hi']);
    expect(s.windows[0]!.messages).toHaveLength(1);
  });

  it("'message' only posts it to the tab, and no default is owed", async () => {
    s = installScope({ windows: focused });
    await dispatch(createPushWorker({ foreground: 'message' }).handlePush, new FakePushEvent(envelope));
    expect(titles()).toEqual([]);
    expect(s.windows[0]!.messages).toMatchObject([{ kind: 'push-data', envelope }]);
  });

  it("'notify' only shows it", async () => {
    s = installScope({ windows: focused });
    await dispatch(createPushWorker({ foreground: 'notify' }).handlePush, new FakePushEvent(envelope));
    expect(titles()).toEqual(['Hi']);
    expect(s.windows[0]!.messages).toEqual([]);
  });

  it("'message' still shows the notification when the tab is hidden or not focused", async () => {
    s = installScope({ windows: [{ focused: true, visibilityState: 'hidden' }, { focused: false }] });
    await dispatch(createPushWorker({ foreground: 'message' }).handlePush, new FakePushEvent(envelope));
    expect(titles()).toEqual(['Hi']);
  });

  it('no default notification is owed for a data push while a tab of the site is in front', async () => {
    s = installScope({ windows: focused });
    await dispatch(createPushWorker().handlePush, new FakePushEvent({ v: 1, data: { n: 1 } }));
    expect(titles()).toEqual([]);
    expect(s.windows[0]!.messages).toHaveLength(1);
  });

  it('bad input gets the default even while a tab is in front: nothing reached the tab', async () => {
    s = installScope({ windows: focused });
    await dispatch(createPushWorker({ defaultNotification: { title: 'Default' } }).handlePush, new FakePushEvent('garbage'));
    expect(titles()).toEqual(['Default']);
    expect(s.windows[0]!.messages).toEqual([]);
  });
});

describe('guard', () => {
  // `retry: true`: the sender says this delivery may repeat an earlier one (a queued batch
  // run again, an id the caller chose), so the worker reads its seen ids before anything.
  const retried = (envelope: object) => ({ ...envelope, retry: true });

  it('drops a retried id it has seen: nothing new while its notification is up, the default once it is gone', async () => {
    const worker = createPushWorker({ backend, defaultNotification: { title: 'Default' } });
    const envelope = { v: 1, id: 'same', notification: { title: 'Once' } };
    await dispatch(worker.handlePush, new FakePushEvent(envelope));
    await dispatch(worker.handlePush, new FakePushEvent(retried(envelope)));
    expect(s.shownLog.map((n) => n.title)).toEqual(['Once']);
    s.notifications[0]!.close();
    await dispatch(worker.handlePush, new FakePushEvent(retried(envelope)));
    expect(s.shownLog.map((n) => n.title)).toEqual(['Once', 'Default']);
    expect(types()).toEqual(['delivered', 'shown', 'failed', 'failed']);
    expect(s.events().filter((e) => e.type === 'failed').map((e) => e.reason)).toEqual(['replayed', 'replayed']);
  });

  it('an unmarked repeat, shown before the guard knew, leaves one copy on screen; handlers, tabs and events run once', async () => {
    s = installScope({ routes: [eventsRoute()], windows: [{ url: '/' }] });
    const handled: unknown[] = [];
    const didShow = vi.fn();
    const worker = createPushWorker({ backend })
      .on('chat', (data) => void handled.push(data))
      .use({ notificationDidShow: didShow });
    const envelope = { v: 1, id: 'twice', type: 'chat', data: { n: 1 }, notification: { title: 'Once on screen' } };
    await dispatch(worker.handlePush, new FakePushEvent(envelope));
    await dispatch(worker.handlePush, new FakePushEvent(envelope));
    expect(s.shownLog.map((n) => n.title)).toEqual(['Once on screen', 'Once on screen']);
    expect(s.notifications.map((n) => n.title)).toEqual(['Once on screen']);
    expect(handled).toEqual([{ n: 1 }]);
    expect(s.windows[0]!.messages).toHaveLength(1);
    expect(didShow).toHaveBeenCalledTimes(1);
    expect(s.events().map((e) => [e.type, e.reason])).toEqual([
      ['delivered', undefined],
      ['shown', undefined],
      ['failed', 'replayed'],
    ]);
  });

  it("an unmarked repeat under the envelope's own tag replaced the first: nothing to close", async () => {
    const worker = createPushWorker();
    const envelope = { v: 1, id: 'tagged', notification: { title: 'Tagged', tag: 'thread' } };
    await dispatch(worker.handlePush, new FakePushEvent(envelope));
    await dispatch(worker.handlePush, new FakePushEvent(envelope));
    expect(s.notifications.map((n) => [n.title, n.tag])).toEqual([['Tagged', 'thread']]);
  });

  it('shows a first delivery before the seen ids are read, and a retried one only after', async () => {
    const order: string[] = [];
    const getAllKeys = IDBObjectStore.prototype.getAllKeys;
    const reads = vi.spyOn(IDBObjectStore.prototype, 'getAllKeys').mockImplementation(function (this: IDBObjectStore, ...args) {
      const request = getAllKeys.apply(this, args);
      request.addEventListener('success', () => order.push('seen ids read'));
      return request;
    });
    const show = s.registration.showNotification;
    s.registration.showNotification = (title, init) => (order.push(`show ${title}`), show(title, init));
    // Cold starts: a new worker each, its ids read from IndexedDB from listen() on.
    await dispatch(createPushWorker().listen().handlePush, new FakePushEvent({ v: 1, id: 'first', notification: { title: 'first' } }));
    await dispatch(
      createPushWorker().listen().handlePush,
      new FakePushEvent(retried({ v: 1, id: 'again', notification: { title: 'again' } })),
    );
    expect(order).toEqual(['show first', 'seen ids read', 'seen ids read', 'show again']);
    reads.mockRestore();
  });

  it('an unmarked repeat of a message the user closed shows it again: nothing tells it from a first delivery', async () => {
    const worker = createPushWorker({ backend });
    const envelope = { v: 1, id: 'closed', notification: { title: 'Back' } };
    await dispatch(worker.handlePush, new FakePushEvent(envelope));
    s.notifications[0]!.close();
    await dispatch(worker.handlePush, new FakePushEvent(envelope));
    expect(s.notifications.map((n) => n.title)).toEqual(['Back']);
    expect(types()).toEqual(['delivered', 'shown', 'failed']);
  });

  it('a replay is caught across workers (the seen ids live in IndexedDB)', async () => {
    const envelope = { v: 1, id: 'same', notification: { title: 'Once' } };
    await dispatch(createPushWorker().handlePush, new FakePushEvent(envelope));
    await dispatch(createPushWorker().handlePush, new FakePushEvent(retried(envelope)));
    expect(s.shownLog.map((n) => n.title)).toEqual(['Once']);
  });

  it('reads the seen ids from IndexedDB once per worker and checks later pushes in memory', async () => {
    const reads = vi.spyOn(IDBObjectStore.prototype, 'getAllKeys');
    const worker = createPushWorker().listen();
    for (let i = 0; i < 5; i++) await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: `r${i}`, notification: { title: `R${i}` } }));
    await dispatch(worker.handlePush, new FakePushEvent(retried({ v: 1, id: 'r2', notification: { title: 'Again' } })));
    expect(reads).toHaveBeenCalledTimes(1);
    expect(s.shownLog.map((n) => n.title)).toEqual(['R0', 'R1', 'R2', 'R3', 'R4']);
    // Every new id reached IndexedDB before its push event ended.
    const db = await openTidingsDB();
    expect((await db.getAllKeys('seen')).sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    db.close();
    reads.mockRestore();
  });

  it('a restarted worker rejects an id its predecessor saw after loading its ids', async () => {
    const envelope = { v: 1, id: 'before-restart', notification: { title: 'Once' } };
    // The first worker reads its (empty) ids at listen(), before the push arrives.
    const first = createPushWorker().listen();
    await dispatch(first.handlePush, new FakePushEvent(envelope));
    const restarted = createPushWorker({ defaultNotification: { title: 'Default' } }).listen();
    await dispatch(restarted.handlePush, new FakePushEvent(retried(envelope)));
    await dispatch(restarted.handlePush, new FakePushEvent(retried({ v: 1, id: 'after-restart', notification: { title: 'New' } })));
    // Nothing new for the replay while its notification is up; the new id passes.
    expect(s.shownLog.map((n) => n.title)).toEqual(['Once', 'New']);
  });

  it('catches a replay in memory where IndexedDB is refused, while the worker runs', async () => {
    s = installScope({ noIndexedDB: true });
    const worker = createPushWorker({ defaultNotification: { title: 'Default' } });
    const envelope = { v: 1, id: 'private', notification: { title: 'Once' } };
    await dispatch(worker.handlePush, new FakePushEvent(envelope));
    await dispatch(worker.handlePush, new FakePushEvent(retried(envelope)));
    expect(s.shownLog.map((n) => n.title)).toEqual(['Once']);
  });

  it('keeps the ids bounded in memory too where IndexedDB is refused, oldest out', async () => {
    s = installScope({ noIndexedDB: true });
    const worker = createPushWorker();
    for (let i = 0; i < 501; i++) await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: `m${i}`, data: i }));
    await dispatch(worker.handlePush, new FakePushEvent(retried({ v: 1, id: 'm0', notification: { title: 'Forgotten' } })));
    await dispatch(worker.handlePush, new FakePushEvent(retried({ v: 1, id: 'm500', notification: { title: 'Remembered' } })));
    expect(s.shownLog.map((n) => n.title)).toContain('Forgotten');
    expect(s.shownLog.map((n) => n.title)).not.toContain('Remembered');
  }, 20_000);

  it('two deliveries of one id at once: one notification on screen, routed and counted once', async () => {
    const handled = vi.fn();
    const worker = createPushWorker({ backend }).on('twin', handled);
    const envelope = { v: 1, id: 'twin', type: 'twin', data: 1, notification: { title: 'Twin' } };
    const events = [new FakePushEvent(envelope), new FakePushEvent(envelope)];
    for (const event of events) worker.handlePush(event as never);
    await Promise.all(events.map((event) => event.settled()));
    expect(s.notifications.map((n) => n.title)).toEqual(['Twin']);
    expect(handled).toHaveBeenCalledTimes(1);
    expect(types().sort()).toEqual(['delivered', 'failed', 'shown']);
  });

  it('two retried deliveries of one id at once show it once', async () => {
    const worker = createPushWorker();
    const envelope = retried({ v: 1, id: 'twin', notification: { title: 'Twin' } });
    const events = [new FakePushEvent(envelope), new FakePushEvent(envelope)];
    for (const event of events) worker.handlePush(event as never);
    await Promise.all(events.map((event) => event.settled()));
    expect(s.shownLog.map((n) => n.title)).toEqual(['Twin']);
  });

  it('drops a stale message (ts + ttl passed)', async () => {
    const worker = createPushWorker({ backend, defaultNotification: { title: 'Default' } });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'old', ts: Date.now() - 120_000, ttl: 60, notification: { title: 'Old news' } }));
    expect(titles()).toEqual(['Default']);
    expect(s.events().map((e) => [e.type, e.reason])).toEqual([
      ['delivered', undefined],
      ['failed', 'stale'],
    ]);
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'fresh', ts: Date.now() - 1000, ttl: 60, notification: { title: 'Fresh' } }));
    expect(titles()).toContain('Fresh');
  });

  it('keeps the seen store bounded', async () => {
    const worker = createPushWorker();
    for (let i = 0; i < 510; i++) await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: `m${i}`, data: i }));
    const db = await openTidingsDB();
    expect(await db.count('seen')).toBe(500);
    expect(await db.get('seen', 'm0')).toBeUndefined();
    expect(await db.get('seen', 'm509')).toBeDefined();
    db.close();
  }, 20_000);
});

describe('sealed and fetched envelopes', () => {
  async function storeKey() {
    const key = await makeSealKey();
    const db = await openTidingsDB();
    await setValue(db, 'sealKey', key.stored);
    db.close();
    return key;
  }
  const seal = (key: { p256dh: string; auth: string }, envelope: object) =>
    Buffer.from(webpush.encrypt(key.p256dh, key.auth, JSON.stringify(envelope), 'aes128gcm').cipherText).toString('base64url');

  it('opens a sealed envelope with the stored key and routes the inner one', async () => {
    const key = await storeKey();
    const sealed = seal(key, { v: 1, id: 'inner', notification: { title: 'Secret' } });
    await dispatch(createPushWorker({ backend }).handlePush, new FakePushEvent({ v: 1, sealed }));
    expect(titles()).toEqual(['Secret']);
    expect(s.events()[0]).toMatchObject({ type: 'delivered', messageId: 'inner' });
  });

  it('checks a sealed envelope marked retry (outside the seal) against the seen ids before it shows it', async () => {
    const key = await storeKey();
    const worker = createPushWorker({ backend });
    const sealed = seal(key, { v: 1, id: 'inner', notification: { title: 'Secret' } });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'inner', sealed }));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'inner', sealed, retry: true }));
    expect(s.shownLog.map((n) => n.title)).toEqual(['Secret']);
    expect(s.events().map((e) => [e.type, e.reason])).toEqual([
      ['delivered', undefined],
      ['shown', undefined],
      ['failed', 'replayed'],
    ]);
  });

  it('fetches a same-origin envelope, which may itself be sealed', async () => {
    const key = await storeKey();
    s.routes.unshift(getRoute('/api/push/messages/m1', { v: 1, sealed: seal(key, { v: 1, id: 'm1', notification: { title: 'Big' } }) }));
    await dispatch(createPushWorker().handlePush, new FakePushEvent({ v: 1, id: 'm1', fetch: '/api/push/messages/m1' }));
    expect(titles()).toEqual(['Big']);
  });

  it('fetches from an allowed origin', async () => {
    s.routes.unshift((r) => (r.url === 'https://api.example/m' ? new Response('{"v":1,"notification":{"title":"Remote"}}') : undefined));
    await dispatch(createPushWorker({ allowedOrigins: ['https://api.example'] }).handlePush, new FakePushEvent({ v: 1, fetch: 'https://api.example/m' }));
    expect(titles()).toEqual(['Remote']);
  });

  it('retries a failed fetch once', async () => {
    let calls = 0;
    s.routes.unshift((r) => (r.url.endsWith('/m') ? (++calls === 1 ? Promise.reject(new TypeError('offline')) : new Response('{"v":1,"notification":{"title":"Second try"}}')) : undefined));
    await dispatch(createPushWorker().handlePush, new FakePushEvent({ v: 1, fetch: '/m' }));
    expect(calls).toBe(2);
    expect(titles()).toEqual(['Second try']);
  });

  it('skips a stale pointer without fetching it: the message it points to may be gone', async () => {
    s.routes.unshift(getRoute('/api/push/messages/old', { v: 1, id: 'old', notification: { title: 'Old news' } }));
    const envelope = { v: 1, id: 'old', ts: Date.now() - 120_000, ttl: 60, fetch: '/api/push/messages/old' };
    await dispatch(createPushWorker({ backend, defaultNotification: { title: 'Default' } }).handlePush, new FakePushEvent(envelope));
    expect(s.requests.filter((r) => r.url.includes('/messages/'))).toEqual([]);
    expect(titles()).toEqual(['Default']);
    expect(s.events().find((e) => e.type === 'failed')).toMatchObject({ messageId: 'old', reason: 'stale' });
  });

  it('reads the seal key once per worker', async () => {
    const key = await storeKey();
    const worker = createPushWorker();
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, sealed: seal(key, { v: 1, id: 'a', notification: { title: 'A' } }) }));
    // Taken from the database, the key can only be found again in the worker's memory.
    const db = await openTidingsDB();
    await db.delete('kv', 'sealKey');
    db.close();
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, sealed: seal(key, { v: 1, id: 'b', notification: { title: 'B' } }) }));
    expect(titles()).toEqual(['A', 'B']);
  });

  it('opens with a seal key made after a sealed push found none', async () => {
    const key = await makeSealKey();
    const worker = createPushWorker({ backend, defaultNotification: { title: 'Default' } });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, sealed: seal(key, { v: 1, id: 'a', notification: { title: 'A' } }) }));
    expect(s.events().find((e) => e.type === 'failed')).toMatchObject({ reason: 'unseal' });
    const db = await openTidingsDB();
    await setValue(db, 'sealKey', key.stored);
    db.close();
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, sealed: seal(key, { v: 1, id: 'b', notification: { title: 'B' } }) }));
    expect(titles()).toEqual(['Default', 'B']);
  });

  it('gives up on a chain of references', async () => {
    s.routes.unshift(getRoute('/loop', { v: 1, fetch: '/loop' }));
    await dispatch(createPushWorker({ backend, defaultNotification: { title: 'Default' } }).handlePush, new FakePushEvent({ v: 1, fetch: '/loop' }));
    expect(titles()).toEqual(['Default']);
    expect(s.events().find((e) => e.type === 'failed')!.reason).toBe('nested');
    expect(s.requests.filter((r) => r.url.endsWith('/loop'))).toHaveLength(3);
  });
});

describe('cache handler', () => {
  it('puts the listed URLs in Cache Storage and reports the ones it cannot', async () => {
    s.routes.unshift(getRoute('/articles/1', 'article one'), getRoute('/gone', 'no', 500));
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'm1', cache: { urls: ['/articles/1', '/gone', 'https://evil.example/x', 'javascript:1'] } }));
    const cache = s.stores.get('tidings')!;
    expect([...cache.keys()]).toEqual(['https://site.example/articles/1']);
    expect(await cache.get('https://site.example/articles/1')!.text()).toBe('article one');
    expect(s.events().filter((e) => e.type === 'failed').map((e) => e.reason).sort()).toEqual(['cache', 'url-refused', 'url-refused']);
  });

  it('keeps at most maxEntries, oldest out, in the named cache', async () => {
    s.routes.unshift((r) => (r.method === 'GET' ? new Response(r.url) : undefined));
    const worker = createPushWorker({ cache: { name: 'news', maxEntries: 2 } });
    for (const url of ['/1', '/2', '/3']) await dispatch(worker.handlePush, new FakePushEvent({ v: 1, cache: { urls: [url] } }));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, cache: { urls: ['/2'] } }));
    expect([...s.stores.get('news')!.keys()]).toEqual(['https://site.example/3', 'https://site.example/2']);
  });

  it('uses a cache a push names only when the worker was configured with that name', async () => {
    s.routes.unshift((r) => (r.method === 'GET' ? new Response(r.url) : undefined));
    const worker = createPushWorker({ cache: { name: 'news', names: ['news-extra'] } });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, cache: { urls: ['/x'], cacheName: 'news-extra' } }));
    expect([...s.stores.get('news-extra')!.keys()]).toEqual(['https://site.example/x']);
  });

  it('puts what a push sends to an unconfigured cache name in the default cache, so pushes cannot make caches', async () => {
    s.routes.unshift((r) => (r.method === 'GET' ? new Response(r.url) : undefined));
    const worker = createPushWorker({ cache: { name: 'news' } });
    for (let i = 0; i < 5; i++) {
      await dispatch(worker.handlePush, new FakePushEvent({ v: 1, cache: { urls: [`/${i}`], cacheName: `news-${i}` } }));
    }
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, cache: { urls: ['/p'], cacheName: '__proto__' } }));
    expect([...s.stores.keys()]).toEqual(['news']);
    expect(s.stores.get('news')!.size).toBe(6);
  });

  it("never writes to or trims a cache outside tidings' name, such as a site's precache", async () => {
    s.routes.unshift((r) => (r.method === 'GET' ? new Response(r.url) : undefined));
    const worker = createPushWorker({ cache: { name: 'news', maxEntries: 1 } });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, cache: { urls: ['/a'], cacheName: 'workbox-precache-v2' } }));
    expect(s.stores.has('workbox-precache-v2')).toBe(false);
    expect([...s.stores.get('news')!.keys()]).toEqual(['https://site.example/a']);
  });
});
