import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushWorker } from '../../../src/worker/createPushWorker.js';
import {
  dispatch,
  eventsRoute,
  FakeNotificationEvent,
  FakePushEvent,
  installScope,
  type FakeScope,
  type ScopeOptions,
  type ShownNotification,
} from './support/fakeScope.js';

const backend = '/api/push';
let s: FakeScope;
const setup = (options: ScopeOptions = {}) => (s = installScope({ routes: [eventsRoute()], ...options }));
beforeEach(() => void setup());

async function show(notification: object, options = {}) {
  const worker = createPushWorker({ backend, ...options });
  await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'm1', notification: { title: 't', ...notification } }));
  return { worker, notification: s.notifications.at(-1)! };
}
const click = (worker: ReturnType<typeof createPushWorker>, notification: ShownNotification, action = '') =>
  dispatch(worker.handleNotificationClick, new FakeNotificationEvent(notification, action));
const failures = () => s.events().filter((e) => e.type === 'failed').map((e) => e.reason);

describe('notificationclick', () => {
  it("opens the notification's URL in a new window, closes it, tells the tab and records clicked", async () => {
    const { worker, notification } = await show({ url: '/articles/1', data: { a: 1 } });
    await click(worker, notification);
    expect(notification.closed).toBe(true);
    expect(s.opened).toEqual(['https://site.example/articles/1']);
    expect(s.windows[0]!.messages).toEqual([
      { source: 'tidings', kind: 'notification-click', action: '', messageId: 'm1', url: 'https://site.example/articles/1', data: { a: 1 } },
    ]);
    expect(s.events().at(-1)).toMatchObject({ type: 'clicked', messageId: 'm1' });
  });

  it("opens the clicked action's URL, and records the action", async () => {
    const { worker, notification } = await show({ url: '/a', actions: [{ action: 'reply', title: 'Reply', url: '/reply' }, { action: 'x', title: 'X' }] });
    await click(worker, notification, 'reply');
    // The window opened by the first click is navigated by the second.
    await click(worker, notification, 'x');
    expect(s.opened).toEqual(['https://site.example/reply']);
    expect(s.windows[0]!.url).toBe('https://site.example/a');
    expect(s.events().filter((e) => e.type === 'clicked').map((e) => e.action)).toEqual(['reply', 'x']);
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'looks an action named %s up as its own entry only: with no URL it opens the notification URL',
    async (name) => {
      const actions = [{ action: name, title: 'A' }, { action: 'reply', title: 'R', url: '/reply' }];
      const { worker, notification } = await show({ url: '/articles/1', actions });
      await click(worker, notification, name);
      expect(s.opened).toEqual(['https://site.example/articles/1']);
      expect(failures()).toEqual([]);
    },
  );

  it('opens the URL of an action named __proto__ that has one', async () => {
    const { worker, notification } = await show({ actions: [{ action: '__proto__', title: 'A', url: '/proto' }] });
    await click(worker, notification, '__proto__');
    expect(s.opened).toEqual(['https://site.example/proto']);
  });

  it('opens the scope when the notification has no URL', async () => {
    const { worker, notification } = await show({});
    await click(worker, notification);
    expect(s.opened).toEqual(['https://site.example/']);
  });

  it('focuses a tab already on the URL', async () => {
    setup({ windows: [{ url: '/other' }, { url: '/articles/1' }] });
    const { worker, notification } = await show({ url: '/articles/1' });
    await click(worker, notification);
    expect(s.opened).toEqual([]);
    expect(s.windows[1]!.focused).toBe(true);
    expect(s.windows[1]!.messages.at(-1)).toMatchObject({ kind: 'notification-click' });
  });

  it('navigates a tab of the site when none is on the URL', async () => {
    setup({ windows: [{ url: '/other' }] });
    const { worker, notification } = await show({ url: '/articles/1' });
    await click(worker, notification);
    expect(s.opened).toEqual([]);
    expect(s.windows[0]).toMatchObject({ url: 'https://site.example/articles/1', focused: true });
  });

  it('opens a window when the tab cannot be navigated (not controlled), and counts no failure', async () => {
    setup({ windows: [{ url: '/other', navigate: () => Promise.reject(new TypeError('not controlled')) }] });
    const { worker, notification } = await show({ url: '/articles/1' });
    await click(worker, notification);
    expect(s.opened).toEqual(['https://site.example/articles/1']);
    expect(failures()).toEqual([]);
    expect(s.events().at(-1)).toMatchObject({ type: 'clicked', messageId: 'm1' });
  });

  it('opens an allowed other origin in a new window', async () => {
    setup({ windows: [{ url: '/' }] });
    const { worker, notification } = await show({ url: 'https://shop.example/deal' }, { allowedOrigins: ['https://shop.example'] });
    await click(worker, notification);
    expect(s.opened).toEqual(['https://shop.example/deal']);
    expect(s.windows[0]!.url).toBe('https://site.example/');
  });

  it.each([
    'javascript:alert(document.cookie)',
    'JAVASCRIPT:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'blob:https://site.example/0b3c',
    'file:///etc/passwd',
    'https://evil.example/phish',
    '//evil.example/phish',
    'mailto:a@b.example',
  ])('refuses %s: opens the scope and records failed url-refused', async (url) => {
    const { worker, notification } = await show({ url });
    await click(worker, notification);
    expect(s.opened).toEqual(['https://site.example/']);
    expect(failures()).toEqual(['url-refused']);
  });

  it('refuses a bad action URL too', async () => {
    const { worker, notification } = await show({ actions: [{ action: 'a', title: 'A', url: 'javascript:1' }] });
    await click(worker, notification, 'a');
    expect(s.opened).toEqual(['https://site.example/']);
    expect(failures()).toEqual(['url-refused']);
  });

  it('leaves notifications tidings did not show alone', async () => {
    const worker = createPushWorker({ backend });
    const foreign: ShownNotification = { title: 'theirs', data: { theirs: true }, options: {}, closed: false, close: vi.fn() };
    const event = await click(worker, foreign);
    const noData = await click(worker, { ...foreign, data: null });
    expect(event.promises).toEqual([]);
    expect(noData.promises).toEqual([]);
    expect(foreign.close).not.toHaveBeenCalled();
    expect(s.opened).toEqual([]);
  });

  it('tells notificationDidClick hooks, and survives a failing openWindow', async () => {
    const clicked = vi.fn();
    const { worker, notification } = await show({ url: '/x' });
    worker.use({ notificationDidClick: clicked });
    await click(worker, notification);
    expect(clicked).toHaveBeenCalledWith(expect.objectContaining({ action: '', url: 'https://site.example/x', messageId: 'm1' }));
    s.windows.length = 0;
    s.scope.clients.openWindow = () => Promise.reject(new Error('no window'));
    await click(worker, notification);
    expect(failures()).toEqual(['openWindow: Error: no window']);
    // The visitor did click: the click is counted, and the hooks hear it with no window.
    expect(s.events().filter((e) => e.type === 'clicked')).toHaveLength(2);
    expect(clicked).toHaveBeenLastCalledWith(expect.objectContaining({ client: null }));
  });

  describe('a click that fails names the step and the browser\'s error', () => {
    const refused = (what: string) => () => Promise.reject(new DOMException(`Not allowed to ${what} a window.`, 'InvalidAccessError'));
    const notControlled = () => Promise.reject(new TypeError("This service worker is not the client's active service worker."));

    it('openWindow, when no tab is open and no window may open', async () => {
      const { worker, notification } = await show({ url: '/articles/1' });
      s.scope.clients.openWindow = refused('open');
      await click(worker, notification);
      expect(failures()).toEqual(['openWindow: InvalidAccessError: Not allowed to open a window.']);
    });

    it('focus, when the tab on the URL may not come forward; the tab still hears the click', async () => {
      setup({ windows: [{ url: '/articles/1', focus: refused('focus') }] });
      const { worker, notification } = await show({ url: '/articles/1' });
      await click(worker, notification);
      expect(failures()).toEqual(['focus: InvalidAccessError: Not allowed to focus a window.']);
      expect(s.opened).toEqual([]);
      expect(s.windows[0]!.messages.at(-1)).toMatchObject({ kind: 'notification-click', messageId: 'm1' });
    });

    it('focus, when the navigated tab may not come forward', async () => {
      setup({ windows: [{ url: '/other', focus: refused('focus') }] });
      const { worker, notification } = await show({ url: '/articles/1' });
      await click(worker, notification);
      expect(s.windows[0]!.url).toBe('https://site.example/articles/1');
      expect(failures()).toEqual(['focus: InvalidAccessError: Not allowed to focus a window.']);
    });

    it('an uncontrolled tab where no window may open: the site\'s tab comes forward and hears the click, no failure', async () => {
      setup({ windows: [{ url: '/other', navigate: notControlled }] });
      const { worker, notification } = await show({ url: '/articles/1' });
      s.scope.clients.openWindow = refused('open');
      await click(worker, notification);
      expect(s.windows[0]).toMatchObject({ url: 'https://site.example/other', focused: true });
      expect(s.windows[0]!.messages.at(-1)).toMatchObject({ kind: 'notification-click', url: 'https://site.example/articles/1' });
      expect(failures()).toEqual([]);
    });

    it('every step, in order, when nothing may come forward', async () => {
      setup({ windows: [{ url: '/other', navigate: notControlled, focus: refused('focus') }] });
      const { worker, notification } = await show({ url: '/articles/1' });
      s.scope.clients.openWindow = refused('open');
      await click(worker, notification);
      expect(failures()).toEqual([
        "navigate: TypeError: This service worker is not the client's active service worker.; " +
          'openWindow: InvalidAccessError: Not allowed to open a window.; ' +
          'focus: InvalidAccessError: Not allowed to focus a window.',
      ]);
    });

    it('no failure when openWindow answers null, as it does for a window of another origin', async () => {
      const { worker, notification } = await show({ url: 'https://shop.example/deal' }, { allowedOrigins: ['https://shop.example'] });
      s.scope.clients.openWindow = async () => null as never;
      await click(worker, notification);
      expect(failures()).toEqual([]);
    });
  });

  it('opens the scope for the default notification', async () => {
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent('garbage'));
    await click(worker, s.notifications[0]!);
    expect(s.opened).toEqual(['https://site.example/']);
  });

  it('records no click for a message with analytics off', async () => {
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, analytics: false, notification: { title: 'q' } }));
    await click(worker, s.notifications[0]!);
    expect(s.events()).toEqual([]);
  });
});

describe('notificationclose', () => {
  it('records closed for tidings notifications only', async () => {
    const closed = vi.fn();
    const { worker, notification } = await show({});
    worker.use({ notificationDidClose: closed });
    await dispatch(worker.handleNotificationClose, new FakeNotificationEvent(notification));
    const other = await dispatch(
      worker.handleNotificationClose,
      new FakeNotificationEvent({ title: 'x', data: {}, options: {}, closed: true, close() {} }),
    );
    expect(other.promises).toEqual([]);
    expect(s.events().filter((e) => e.type === 'closed')).toMatchObject([{ messageId: 'm1' }]);
    expect(closed).toHaveBeenCalledTimes(1);
  });

  it('records no closed and tells no hook for the close Firefox fires after a click', async () => {
    const closed = vi.fn();
    const { worker, notification } = await show({});
    worker.use({ notificationDidClose: closed });
    await click(worker, notification);
    await dispatch(worker.handleNotificationClose, new FakeNotificationEvent(notification));
    expect(s.events().map((e) => e.type)).toEqual(['delivered', 'shown', 'clicked']);
    expect(closed).not.toHaveBeenCalled();
  });

  it('still records the dismissal of another notification after a click, and of the same message shown again', async () => {
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'a', notification: { title: 'a', tag: 'a' } }));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, id: 'b', notification: { title: 'b', tag: 'b' } }));
    const [a, b] = s.notifications;
    await click(worker, a!);
    await dispatch(worker.handleNotificationClose, new FakeNotificationEvent(b!));
    await dispatch(worker.handleNotificationClose, new FakeNotificationEvent(a!));
    // The click's close is spent: a later close of message a is a dismissal again.
    await dispatch(worker.handleNotificationClose, new FakeNotificationEvent(a!));
    expect(s.events().filter((e) => e.type === 'closed' || e.type === 'clicked').map((e) => [e.type, e.messageId])).toEqual([
      ['clicked', 'a'],
      ['closed', 'b'],
      ['closed', 'a'],
    ]);
  });

  it('tells a message-less notification by its tag', async () => {
    const worker = createPushWorker({ backend });
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, notification: { title: 'x', tag: 'x' } }));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, notification: { title: 'y', tag: 'y' } }));
    const [x, y] = s.notifications;
    await click(worker, x!);
    await dispatch(worker.handleNotificationClose, new FakeNotificationEvent(x!));
    await dispatch(worker.handleNotificationClose, new FakeNotificationEvent(y!));
    expect(s.events().filter((e) => e.type === 'closed' || e.type === 'clicked').map((e) => e.type)).toEqual(['clicked', 'closed']);
  });

  it('records the close when the worker was stopped between the click and the close (the backend refuses it then)', async () => {
    const { worker, notification } = await show({});
    await click(worker, notification);
    // A new worker: the browser stopped the one that saw the click.
    const restarted = createPushWorker({ backend });
    await dispatch(restarted.handleNotificationClose, new FakeNotificationEvent(notification));
    expect(s.events().filter((e) => e.type === 'closed' || e.type === 'clicked').map((e) => e.type)).toEqual(['clicked', 'closed']);
  });
});
