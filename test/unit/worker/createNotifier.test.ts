import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createNotifier } from '../../../src/worker/createNotifier.js';
import { installScope, type FakeScope } from './support/fakeScope.js';

let s: FakeScope;
beforeEach(() => {
  s = installScope();
});

describe('createNotifier', () => {
  it('lists only once no show is in progress: Chromium drops a notification listed while it is being shown', async () => {
    const notifier = createNotifier();
    let release!: () => void;
    const show = s.registration.showNotification;
    s.registration.showNotification = async (title, init) => {
      await new Promise<void>((resolve) => (release = resolve));
      return show(title, init);
    };
    const list = vi.spyOn(s.registration, 'getNotifications');
    const shown = notifier.show('Slow', { data: { __tidings: { messageId: 'm' } } });
    const listed = notifier.list('m');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(list).not.toHaveBeenCalled();
    release();
    await shown;
    expect((await listed).map((n) => n.title)).toEqual(['Slow']);
    expect(list).toHaveBeenCalledTimes(1);
  });

  it("lists tidings' own notifications, or one message's", async () => {
    const notifier = createNotifier();
    await notifier.show('A', { data: { __tidings: { messageId: 'a' } } });
    await notifier.show('B', { data: { __tidings: { messageId: 'b' } } });
    await notifier.show('Foreign', { data: { other: true } });
    expect((await notifier.list()).map((n) => n.title)).toEqual(['A', 'B']);
    expect((await notifier.list('b')).map((n) => n.title)).toEqual(['B']);
  });
});
