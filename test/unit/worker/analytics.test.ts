import { beforeEach, describe, expect, it } from 'vitest';
import { createPushWorker } from '../../../src/worker/createPushWorker.js';
import { openTidingsDB } from '../../../src/worker/db.js';
import { dispatch, eventsRoute, FakeEvent, FakePushEvent, installScope, type FakeScope } from './support/fakeScope.js';

const backend = 'https://site.example/api/push';
let s: FakeScope;
let status = 202;
beforeEach(() => {
  status = 202;
  s = installScope({ routes: [(request) => eventsRoute(status)(request)], sync: true });
});
const posts = () => s.requests.filter((r) => r.url === `${backend}/events`);
const outbox = async () => {
  const db = await openTidingsDB();
  const entries = await db.getAll('outbox');
  db.close();
  return entries.map((e) => e.event);
};
const notify = (id: string) => new FakePushEvent({ v: 1, id, notification: { title: id } });

describe('analytics outbox', () => {
  it('sends the events of a push to POST {backend}/events inside waitUntil, then empties the outbox', async () => {
    await dispatch(createPushWorker({ backend }).handlePush, notify('m1'));
    expect(posts()).toHaveLength(1);
    expect(posts()[0]!.body.events).toMatchObject([
      { type: 'delivered', messageId: 'm1' },
      { type: 'shown', messageId: 'm1' },
    ]);
    for (const event of posts()[0]!.body.events) {
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof event.at).toBe('number');
    }
    expect(await outbox()).toEqual([]);
  });

  it('keeps the events when the backend fails, registers a Background Sync, and sends them at the next event', async () => {
    const worker = createPushWorker({ backend });
    status = 503;
    await dispatch(worker.handlePush, notify('m1'));
    expect((await outbox()).map((e) => e.type)).toEqual(['delivered', 'shown']);
    expect(s.syncTags).toEqual(['tidings']);
    status = 202;
    await dispatch(worker.handlePush, notify('m2'));
    expect(posts().at(-1)!.body.events.map((e: { messageId: string }) => e.messageId)).toEqual(['m1', 'm1', 'm2', 'm2']);
    expect(await outbox()).toEqual([]);
  });

  it('deletes nothing after a 5xx, 408 or 429, nor after a network error', async () => {
    const worker = createPushWorker({ backend });
    status = 503;
    await dispatch(worker.handlePush, notify('m1'));
    s.routes.unshift((r) => (r.url.endsWith('/events') ? Promise.reject(new TypeError('offline')) : undefined));
    await dispatch(worker.handlePush, notify('m2'));
    expect(await outbox()).toHaveLength(4);
  });

  it('flushes on the sync event and rejects it while events are left, so the browser retries', async () => {
    const worker = createPushWorker({ backend }).listen();
    status = 500;
    await dispatch(worker.handlePush, notify('m1'));
    const sync = s.listeners.get('sync')![0]!;
    const failing = Object.assign(new FakeEvent(), { tag: 'tidings', lastChance: false });
    sync(failing);
    await expect(failing.settled()).rejects.toThrow();
    status = 202;
    const other = Object.assign(new FakeEvent(), { tag: 'someone-else' });
    sync(other);
    expect(other.promises).toEqual([]);
    const passing = Object.assign(new FakeEvent(), { tag: 'tidings', lastChance: false });
    sync(passing);
    await passing.settled();
    expect(await outbox()).toEqual([]);
  });

  it('sends in batches of batchSize', async () => {
    const worker = createPushWorker({ backend, analytics: { batchSize: 3 } });
    status = 503;
    for (let i = 0; i < 4; i++) await dispatch(worker.handlePush, notify(`m${i}`));
    status = 202;
    const before = posts().length;
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, analytics: false, notification: { title: 'quiet' } }));
    expect(posts().slice(before).map((p) => p.body.events.length)).toEqual([3, 3, 2]);
  });

  it('keeps at most maxQueue events, drops the oldest and reports how many', async () => {
    const worker = createPushWorker({ backend, analytics: { maxQueue: 3 } });
    status = 503;
    for (let i = 0; i < 4; i++) await dispatch(worker.handlePush, notify(`m${i}`));
    const kept = await outbox();
    expect(kept).toHaveLength(3);
    // 8 recorded, 3 kept: 5 dropped, carried by the events that follow the drops.
    status = 202;
    await dispatch(worker.handlePush, new FakePushEvent('garbage'));
    const sent = posts().at(-1)!.body.events as { dropped?: number }[];
    expect(sent.reduce((n, e) => n + (e.dropped ?? 0), 0)).toBe(6);
  });

  it('a burst of 200 pushes loses no event and sends only full batches', async () => {
    const worker = createPushWorker({ backend });
    const events = Array.from({ length: 200 }, (_, i) => notify(`m${i}`));
    for (const event of events) worker.handlePush(event as never);
    await Promise.all(events.map((event) => event.settled()));
    const sent = posts().flatMap((p) => p.body.events as { type: string; messageId: string }[]);
    expect(sent).toHaveLength(400);
    expect(new Set(sent.map((e) => `${e.type}:${e.messageId}`)).size).toBe(400);
    // Two events a push, 20 a request: 20 requests, none of them partial.
    expect(posts().map((p) => p.body.events.length)).toEqual(Array(20).fill(20));
    expect(s.shownLog).toHaveLength(200);
    expect(await outbox()).toEqual([]);
  }, 20_000);

  it('in a burst, only the last request carries a partial batch', async () => {
    const worker = createPushWorker({ backend, analytics: { batchSize: 4 } });
    // The first push ends early, while the others of the burst still run (as in a
    // browser, where they overlap): it must not send a partial batch they could fill.
    worker.on('slow', (data) => new Promise((wake) => setTimeout(wake, data === 0 ? 5 : 50)));
    const events = Array.from({ length: 7 }, (_, i) => new FakePushEvent({ v: 1, id: `b${i}`, type: 'slow', data: i, notification: { title: 'b' } }));
    // Spread over tasks, as real pushes arrive.
    for (const event of events) {
      worker.handlePush(event as never);
      await new Promise((wake) => setTimeout(wake, 3));
    }
    await Promise.all(events.map((event) => event.settled()));
    expect(posts().map((p) => p.body.events.length)).toEqual([4, 4, 4, 2]);
    expect(await outbox()).toEqual([]);
  });

  it('a partial batch waits a moment for the next push of a burst, which sends it with its own', async () => {
    const worker = createPushWorker({ backend, analytics: { batchSize: 4 } });
    const first = notify('g1');
    worker.handlePush(first as never);
    // The next push comes after the first one's work ended, but before it sent anything.
    await new Promise((wake) => setTimeout(wake, 5));
    await dispatch(worker.handlePush, notify('g2'));
    await first.settled();
    expect(posts().map((p) => p.body.events.length)).toEqual([4]);
  });

  it('records nothing for a message with analytics: false, except failures', async () => {
    const worker = createPushWorker({ backend, timeout: 250 });
    worker.on('hang', () => new Promise(() => undefined));
    await dispatch(worker.handlePush, new FakePushEvent({ v: 1, analytics: false, type: 'hang', data: 1, notification: { title: 'x' } }));
    expect(s.events().map((e) => [e.type, e.reason])).toEqual([['failed', 'timeout']]);
  });

  it('records and sends nothing with analytics off, or without a backend', async () => {
    await dispatch(createPushWorker({ backend, analytics: false }).handlePush, notify('m1'));
    await dispatch(createPushWorker().handlePush, notify('m2'));
    expect(s.requests).toEqual([]);
    expect(await outbox()).toEqual([]);
  });

  it('a tidings flush message from a tab of the site sends the outbox; others are ignored', async () => {
    const worker = createPushWorker({ backend }).listen();
    status = 503;
    await dispatch(worker.handlePush, notify('m1'));
    status = 202;
    const message = s.listeners.get('message')![0]!;
    const foreign = Object.assign(new FakeEvent(), { data: { source: 'tidings', kind: 'flush' }, source: { url: 'https://evil.example/' } });
    const notOurs = Object.assign(new FakeEvent(), { data: { kind: 'flush' }, source: { url: `${s.origin}/` } });
    const none = Object.assign(new FakeEvent(), { data: { source: 'tidings', kind: 'flush' }, source: null });
    for (const event of [foreign, notOurs, none]) {
      message(event);
      expect(event.promises).toEqual([]);
    }
    const ours = Object.assign(new FakeEvent(), { data: { source: 'tidings', kind: 'flush' }, source: { url: `${s.origin}/page` } });
    message(ours);
    await ours.settled();
    expect(await outbox()).toEqual([]);
  });
});
