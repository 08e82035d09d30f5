import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushWorker } from '../../../src/worker/createPushWorker.js';
import {
  dispatch,
  eventsRoute,
  FakeNotificationEvent,
  FakePushEvent,
  FIREFOX_UA,
  installScope,
  SAFARI_UA,
  type FakeScope,
  type ScopeOptions,
} from './support/fakeScope.js';

// Declarative Web Push (PUSH-FACTS 6.8, 7) as the worker sees it: the JSON in an ordinary
// push event (every browser without the feature), a mutable message the browser shows
// itself, app badges, and Safari's rule that every push shows a notification.

const backend = '/api/push';
let s: FakeScope;
const setup = (options: ScopeOptions = {}) => (s = installScope({ routes: [eventsRoute()], ...options }));
beforeEach(() => void setup());
const types = () => s.events().map((e) => e.type);
const declared = (notification: object, rest: object = {}) => ({
  web_push: 8030,
  notification: { title: 'Declared', navigate: 'https://site.example/articles/1', ...notification },
  ...rest,
});
/** A push event as the spec's `mutable` dispatches it: the browser's notification on it. */
const mutableEvent = (payload: object, name: 'notification' | 'proposedNotification' = 'notification') =>
  Object.assign(new FakePushEvent(payload), { [name]: { title: 'shown by the browser' } });

describe('a declarative payload in a push event', () => {
  it('is rendered like an envelope: fields, actions with navigate, analytics by its id', async () => {
    const worker = createPushWorker({ backend });
    const payload = declared(
      { body: 'B', tag: 't', actions: [{ action: 'read', title: 'Read', navigate: 'https://site.example/read' }] },
      { id: 'd1', mutable: true },
    );
    await dispatch(worker.handlePush, new FakePushEvent(payload));
    const [shown] = s.notifications;
    expect(shown).toMatchObject({ title: 'Declared', body: 'B', tag: 't' });
    expect(shown!.data.__tidings).toEqual({
      messageId: 'd1',
      url: 'https://site.example/articles/1',
      actions: { read: 'https://site.example/read' },
      analytics: true,
    });
    expect(types()).toEqual(['delivered', 'shown']);
    await dispatch(worker.handleNotificationClick, new FakeNotificationEvent(shown!, 'read'));
    expect(s.opened).toEqual(['https://site.example/read']);
  });

  it('sends a navigate to an origin not allowed to the start URL instead, and records it', async () => {
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent(declared({ navigate: 'https://evil.example/' }, { id: 'd1' })));
    await dispatch(worker.handleNotificationClick, new FakeNotificationEvent(s.notifications[0]!));
    expect(s.opened).toEqual(['https://site.example/']);
    expect(s.events().filter((e) => e.type === 'failed').map((e) => e.reason)).toEqual(['url-refused']);
  });

  it('is shown once when the same id is pushed twice (the replay guard)', async () => {
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent(declared({}, { id: 'd1' })));
    // Marked as a retry by the sender: nothing is shown before the seen ids are read.
    await dispatch(worker.handlePush, new FakePushEvent(declared({}, { id: 'd1', retry: true })));
    expect(s.shownLog.map((n) => n.title)).toEqual(['Declared']);
    // Unmarked: shown again before the guard knew, then one copy is closed.
    await dispatch(worker.handlePush, new FakePushEvent(declared({}, { id: 'd1' })));
    expect(s.notifications.map((n) => n.title)).toEqual(['Declared']);
    expect(s.events().filter((e) => e.type === 'failed').map((e) => e.reason)).toEqual(['replayed', 'replayed']);
  });

  it('invalid declarative JSON gets the default notification and a failed event', async () => {
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent({ web_push: 8030, notification: { title: 'x' }, app_badge: -3 }));
    expect(s.notifications.map((n) => n.title)).toEqual(['site.example']);
    expect(s.events()).toMatchObject([{ type: 'failed', reason: 'not-count' }]);
  });
});

describe('app badges', () => {
  it('sets the badge from app_badge, at the top level or inside notification, and clears it for 0', async () => {
    const worker = createPushWorker();
    await dispatch(worker.handlePush, new FakePushEvent(declared({}, { app_badge: 3 })));
    await dispatch(worker.handlePush, new FakePushEvent(declared({ app_badge: '12' })));
    await dispatch(worker.handlePush, new FakePushEvent(declared({}, { app_badge: 0 })));
    expect(s.badges).toEqual([3, 12, 0]);
  });

  it('sets the badge from a tidings envelope, with or without a notification', async () => {
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'm1', appBadge: 5, notification: { title: 'x' } }));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'm2', appBadge: 0 }));
    expect(s.badges).toEqual([5, 0]);
    expect(s.events().filter((e) => e.type === 'failed')).toEqual([]);
  });

  it('does nothing about the badge where the browser has no Badging API, and still shows', async () => {
    setup({ noBadging: true, userAgent: FIREFOX_UA });
    await dispatch(createPushWorker({ backend }).handlePush, new FakePushEvent(declared({}, { id: 'd1', app_badge: 2 })));
    expect(s.notifications.map((n) => n.title)).toEqual(['Declared']);
    expect(types()).toEqual(['delivered', 'shown']);
  });

  it('records a badge the browser refuses as failed, and still shows', async () => {
    (s.scope.navigator as { setAppBadge(n: number): Promise<void> }).setAppBadge = async () => {
      throw new DOMException('not installed', 'NotAllowedError');
    };
    await dispatch(createPushWorker({ backend }).handlePush, new FakePushEvent(declared({}, { id: 'd1', app_badge: 2 })));
    expect(s.notifications).toHaveLength(1);
    expect(s.events().filter((e) => e.type === 'failed').map((e) => e.reason)).toEqual(['handler']);
  });
});

describe('a mutable message the browser showed itself', () => {
  it.each(['notification', 'proposedNotification'] as const)(
    'is not shown again (the event carries it as %s); the rest runs and it counts as shown',
    async (name) => {
      setup({ windows: [{ url: '/', focused: false }] });
      const handled: unknown[] = [];
      const worker = createPushWorker({ backend }).on('chat', (data) => void handled.push(data));
      const payload = declared({}, { id: 'd1', mutable: true, app_badge: 4, type: 'chat', data: { n: 1 } });
      await dispatch(worker.handlePush, mutableEvent(payload, name));
      expect(s.shownLog).toEqual([]);
      expect(s.badges).toEqual([]);
      expect(handled).toEqual([{ n: 1 }]);
      expect(s.windows[0]!.messages).toMatchObject([{ kind: 'push-data', data: { n: 1 } }]);
      expect(types()).toEqual(['delivered', 'shown']);
    },
  );

  it('a replay of it shows nothing either, not even the default', async () => {
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent(declared({}, { id: 'd1' })));
    await dispatch(worker.handlePush, mutableEvent(declared({}, { id: 'd1', mutable: true })));
    s.notifications[0]!.close();
    await dispatch(worker.handlePush, mutableEvent(declared({}, { id: 'd1', mutable: true })));
    expect(s.shownLog.map((n) => n.title)).toEqual(['Declared']);
  });

  it('records nothing for a browser-shown notification whose event has no data to read', async () => {
    const event = Object.assign(new FakePushEvent(null), { proposedNotification: { title: 'shown by the browser' } });
    await dispatch(createPushWorker({ backend }).handlePush, event);
    expect(s.shownLog).toEqual([]);
    expect(s.events()).toEqual([]);
  });

  it("listen() hands WebKit's pushnotification event to the same pipeline", async () => {
    createPushWorker().listen();
    const [listener] = s.listeners.get('pushnotification')!;
    await dispatch(listener!, mutableEvent(declared({}, { id: 'd1', type: 'x', data: 1 }), 'proposedNotification'));
    expect(s.shownLog).toEqual([]);
  });
});

describe("Safari's rule: every push shows a notification", () => {
  const front = { windows: [{ url: '/', focused: true }] };
  describe.each([
    ['with the pushnotification event (Safari 18.4+)', { pushNotificationEvent: true }],
    ['by its engine (older Safari)', { userAgent: SAFARI_UA }],
  ])('%s', (_, browser) => {
    it("shows the notification with a tab in front even when foreground is 'message'", async () => {
      setup({ ...front, ...browser });
      await dispatch(createPushWorker({ foreground: 'message' }).handlePush, new FakePushEvent({ v: 1, notification: { title: 'x' } }));
      expect(s.notifications.map((n) => n.title)).toEqual(['x']);
      expect(s.windows[0]!.messages).toHaveLength(1);
    });

    it('shows the default for a data-only push that reached the tab in front', async () => {
      setup({ ...front, ...browser });
      await dispatch(createPushWorker().handlePush, new FakePushEvent({ v: 1, data: { n: 1 } }));
      expect(s.notifications.map((n) => n.title)).toEqual(['site.example']);
    });

    it('shows a replay again under its tag, silently, in place of itself: never the default beside it', async () => {
      setup(browser);
      const worker = createPushWorker({ backend });
      const envelope = { v: 1, id: 'r', notification: { title: 'x', body: 'b', renotify: true, tag: 'r' } };
      await dispatch(worker.handlePush, new FakePushEvent(envelope));
      await dispatch(worker.handlePush, new FakePushEvent({ ...envelope, retry: true }));
      expect(s.shownLog.map((n) => n.title)).toEqual(['x', 'x']);
      expect(s.notifications.map((n) => [n.title, n.body, n.tag, n.data.__tidings.messageId])).toEqual([['x', 'b', 'r', 'r']]);
      expect(s.shownLog[1]!.options).toMatchObject({ silent: true });
      expect(s.shownLog[1]!.options.renotify).toBeFalsy();
      expect(types()).toEqual(['delivered', 'shown', 'failed']);
    });

    it('closes the copy a new one should have replaced, where the engine keeps both (WebKitGTK)', async () => {
      setup({ ...browser, keepsTagged: true });
      const worker = createPushWorker();
      const envelope = { v: 1, id: 'r', notification: { title: 'x' } };
      await dispatch(worker.handlePush, new FakePushEvent(envelope));
      const [first] = s.notifications;
      await dispatch(worker.handlePush, new FakePushEvent({ ...envelope, retry: true }));
      expect(first!.closed).toBe(true);
      expect(s.notifications.map((n) => n.title)).toEqual(['x']);
    });

    it('shows a replay whose notification the user closed again from its envelope, silently', async () => {
      setup(browser);
      const didShow = vi.fn();
      const worker = createPushWorker({ backend }).use({ notificationDidShow: didShow });
      const envelope = { v: 1, id: 'r', notification: { title: 'x', url: '/r' } };
      await dispatch(worker.handlePush, new FakePushEvent(envelope));
      s.notifications[0]!.close();
      await dispatch(worker.handlePush, new FakePushEvent({ ...envelope, retry: true }));
      expect(s.notifications.map((n) => [n.title, n.data.__tidings.url])).toEqual([['x', '/r']]);
      expect(s.shownLog[1]!.options).toMatchObject({ silent: true, renotify: false });
      // Counted once: the replay records why, not a second `shown`.
      expect(types()).toEqual(['delivered', 'shown', 'failed']);
      expect(didShow).toHaveBeenCalledTimes(1);
    });

    it('a replay whose tag a newer message took shows that newer one again, not the old one', async () => {
      setup(browser);
      const worker = createPushWorker();
      await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'old', notification: { title: 'Old', tag: 'thread' } }));
      await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'new', notification: { title: 'New', tag: 'thread' } }));
      await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'old', retry: true, notification: { title: 'Old', tag: 'thread' } }));
      expect(s.shownLog.map((n) => n.title)).toEqual(['Old', 'New', 'New']);
      expect(s.notifications.map((n) => [n.title, n.data.__tidings.messageId])).toEqual([['New', 'new']]);
    });

    it('a replay of a data-only message shows the default, as its first delivery did', async () => {
      setup(browser);
      const worker = createPushWorker();
      for (const retry of [false, true]) await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'd', data: 1, retry }));
      expect(s.shownLog.map((n) => n.title)).toEqual(['site.example', 'site.example']);
      expect(s.notifications).toHaveLength(1);
    });
  });

  it('leaves other browsers as they were: a tab in front gets the message alone', async () => {
    for (const userAgent of [undefined, FIREFOX_UA]) {
      setup({ ...front, ...(userAgent ? { userAgent } : {}) });
      await dispatch(createPushWorker({ foreground: 'message' }).handlePush, new FakePushEvent({ v: 1, notification: { title: 'x' } }));
      expect(s.shownLog).toEqual([]);
    }
  });
});
