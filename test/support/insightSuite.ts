// The insight half of the shared store suite (test/unit/server/stores.test.ts runs it on
// every store): the send log, the rollups kept as events arrive, and the stats read from
// them. A site's own store runs it the same way: insightSuite(() => myStore()).
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { SubscriptionStore } from '../../src/server/index.js';
import { createPushStats } from '../../src/server/stats/createPushStats.js';
import type { SendRecord } from '../../src/server/stats/statsTypes.js';
import type { RegisterRequest, TidingsEvent } from '../../src/shared/protocol.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A subscription at a given push service. */
export function subscriptionAt(n: number, host = 'fcm.googleapis.com', attributes?: RegisterRequest['attributes']): RegisterRequest {
  const request: RegisterRequest = { subscription: { endpoint: `https://${host}/send/${n}`, expirationTime: null, keys: { p256dh: `p${n}`, auth: `a${n}` } } };
  if (attributes) request.attributes = attributes;
  return request;
}

/** A send-log row with zero counts. */
export function sendRecord(id: string, fields: Partial<SendRecord> = {}): SendRecord {
  return {
    id,
    envelope: { v: 1, id, notification: { title: `Title ${id}` } },
    title: `Title ${id}`,
    audience: null,
    options: {},
    via: 'send',
    state: 'queued',
    createdAt: 1_000_000,
    targeted: 0,
    sent: 0,
    gone: 0,
    failed: 0,
    pruned: 0,
    capped: 0,
    deferred: 0,
    failures: [],
    ...fields,
  };
}

let nextEvent = 0;
/** An event of `type` for `messageId`, with a fresh id. */
export function event(type: TidingsEvent['type'], messageId: string | undefined, at = Date.now(), extra: Partial<TidingsEvent> = {}): TidingsEvent {
  const out: TidingsEvent = { id: `ev-${nextEvent++}-${Math.random().toString(36).slice(2)}`, type, at, ...extra };
  if (messageId !== undefined) out.messageId = messageId;
  return out;
}

export function insightSuite(create: () => SubscriptionStore): void {
  let store: SubscriptionStore;
  beforeEach(() => {
    store = create();
  });
  afterEach(() => store.close());

  const countsOf = async (messageId: string) => {
    const rows = await store.messageEvents([messageId]);
    const sum = (verified: boolean) =>
      rows
        .filter((row) => row.verified === verified)
        .reduce((total, row) => ({
          delivered: total.delivered + row.delivered,
          shown: total.shown + row.shown,
          clicked: total.clicked + row.clicked,
          closed: total.closed + row.closed,
          workerFailed: total.workerFailed + row.workerFailed,
        }), { delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0 });
    return { verified: sum(true), unverified: sum(false), rows };
  };
  /** The hourly rollup summed over the last day (so a test that spans an hour's turn reads the same). */
  const hourNow = async () => {
    const rows = await store.hourlyStats(Date.now() - DAY, Date.now() + HOUR);
    const sum = { messages: 0, sent: 0, delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0, subscribed: 0, unsubscribed: 0 };
    for (const row of rows) for (const key of Object.keys(sum) as (keyof typeof sum)[]) sum[key] += row[key];
    return sum;
  };

  it('adds a send to the log once, and reads it back', async () => {
    const record = sendRecord('m1', { by: 'ann', audience: { attributes: { team: 'red' } }, options: { ttl: 60 }, url: '/a', type: 'news' });
    expect(await store.createSend(record)).toBe(true);
    expect(await store.createSend({ ...record, title: 'another' })).toBe(false);
    expect(await store.getSend('m1')).toEqual({ ...record, services: {} });
    expect(await store.getSend('m2')).toBeUndefined();
  });

  it('keeps the larger of stored and written counts, moves states forward only, and reports a finish once', async () => {
    await store.createSend(sendRecord('m1'));
    const started = Date.now();
    let updated = await store.updateSend('m1', { state: 'running', startedAt: started, counts: { targeted: 10, sent: 4 }, services: { fcm: { sent: 4 } } });
    expect(updated).toMatchObject({ finished: false, send: { state: 'running', startedAt: started, targeted: 10, sent: 4 } });
    // A slower sender's older reading arrives late: it lowers nothing.
    updated = await store.updateSend('m1', { state: 'queued', startedAt: started + 5, counts: { targeted: 10, sent: 2, failed: 1 }, services: { fcm: { sent: 2, failed: 1 } } });
    expect(updated!.send).toMatchObject({ state: 'running', startedAt: started, sent: 4, failed: 1, services: { fcm: { sent: 4, gone: 0, failed: 1 } } });
    updated = await store.updateSend('m1', {
      state: 'done',
      finishedAt: started + 100,
      counts: { sent: 8, failed: 2 },
      failures: [{ cause: 'http-5xx', host: 'fcm.googleapis.com', count: 2, sample: '503 busy' }],
    });
    expect(updated).toMatchObject({ finished: true, send: { state: 'done', finishedAt: started + 100, sent: 8, failed: 2 } });
    // The same final write again (a batch run twice): nothing changes, and it is no second finish.
    updated = await store.updateSend('m1', { state: 'failed', finishedAt: started + 200, error: 'late', counts: { sent: 8 }, failures: [{ cause: 'http-5xx', host: 'fcm.googleapis.com', count: 1, sample: 'other' }] });
    expect(updated).toMatchObject({ finished: false, send: { state: 'done', finishedAt: started + 100, failures: [{ cause: 'http-5xx', host: 'fcm.googleapis.com', count: 2, sample: '503 busy' }] } });
    expect(updated!.send.error).toBeUndefined();
    expect(await store.updateSend('unknown', { state: 'done' })).toBeUndefined();
    // The hour got the send's start and what `sent` grew by, once.
    expect(await hourNow()).toMatchObject({ messages: 1, sent: 8 });
  });

  it('keeps the later nextWriteBy of a running send: a heartbeat read late lowers nothing', async () => {
    const started = Date.now();
    await store.createSend(sendRecord('m1', { state: 'running', startedAt: started, nextWriteBy: started + 300_000 }));
    let updated = await store.updateSend('m1', { nextWriteBy: started + 360_000 });
    expect(updated).toMatchObject({ finished: false, send: { state: 'running', nextWriteBy: started + 360_000 } });
    updated = await store.updateSend('m1', { counts: { sent: 3 }, nextWriteBy: started + 330_000 });
    expect(updated!.send).toMatchObject({ sent: 3, nextWriteBy: started + 360_000 });
    expect(await store.getSend('m1')).toMatchObject({ nextWriteBy: started + 360_000 });
  });

  it('counts a send created running in the hour it started', async () => {
    const now = Date.now();
    await store.createSend(sendRecord('m1', { state: 'running', startedAt: now, createdAt: now }));
    await store.createSend(sendRecord('m1', { state: 'running', startedAt: now, createdAt: now }));
    expect(await hourNow()).toMatchObject({ messages: 1 });
  });

  it('lists the send log newest first, in keyset pages, within since and until', async () => {
    for (const [id, createdAt] of [['a', 100], ['b', 300], ['c', 200], ['d', 300], ['e', 400]] as const) await store.createSend(sendRecord(id, { createdAt }));
    const ids = async (query: Parameters<SubscriptionStore['listSends']>[0]) => (await store.listSends(query)).map((send) => send.id);
    expect(await ids({ limit: 10 })).toEqual(['e', 'd', 'b', 'c', 'a']);
    expect(await ids({ limit: 2 })).toEqual(['e', 'd']);
    expect(await ids({ limit: 2, before: { createdAt: 300, id: 'd' } })).toEqual(['b', 'c']);
    expect(await ids({ limit: 2, before: { createdAt: 200, id: 'c' } })).toEqual(['a']);
    expect(await ids({ limit: 10, since: 200, until: 400 })).toEqual(['d', 'b', 'c']);
  });

  it('counts each verified (message, subscription, type) once, by push service and browser', async () => {
    const fcm = await store.saveSubscription(subscriptionAt(1), () => ({ attributes: {}, browser: 'chrome' }));
    const mozilla = await store.saveSubscription(subscriptionAt(2, 'updates.push.services.mozilla.com'), () => ({ attributes: {}, browser: 'firefox' }));
    await store.createSend(sendRecord('m1'));
    const now = Date.now();
    const first = await store.recordEvents({ subscriptionId: fcm.id, countSince: 0, events: [event('delivered', 'm1', now), event('shown', 'm1', now), event('clicked', 'm1', now, { action: 'open' })] });
    expect(first.stored).toBe(3);
    expect(first.counted.map((c) => [c.event.type, c.subscriptionId, c.service, c.browser])).toEqual([
      ['delivered', fcm.id, 'fcm', 'chrome'],
      ['shown', fcm.id, 'fcm', 'chrome'],
      ['clicked', fcm.id, 'fcm', 'chrome'],
    ]);
    // The same kinds again under new event ids (a worker that sent twice, a forger that
    // knows the key of one subscription): stored, never counted again.
    const again = await store.recordEvents({ subscriptionId: fcm.id, countSince: 0, events: [event('shown', 'm1', now), event('clicked', 'm1', now), event('clicked', 'm1', now)] });
    expect(again).toEqual({ stored: 3, counted: [] });
    await store.recordEvents({ subscriptionId: mozilla.id, countSince: 0, events: [event('delivered', 'm1', now), event('shown', 'm1', now), event('closed', 'm1', now)] });
    const counts = await countsOf('m1');
    expect(counts.verified).toEqual({ delivered: 2, shown: 2, clicked: 1, closed: 1, workerFailed: 0 });
    expect(counts.rows.map(({ service, browser, shown }) => [service, browser, shown]).sort()).toEqual([
      ['fcm', 'chrome', 1],
      ['mozilla', 'firefox', 1],
    ]);
    expect(await hourNow()).toMatchObject({ delivered: 2, shown: 2, clicked: 1, closed: 1 });
  });

  it("counts no closed for a (message, subscription) counted as clicked: Firefox's close after a click is no dismissal", async () => {
    const a = await store.saveSubscription(subscriptionAt(1, 'updates.push.services.mozilla.com'), () => ({ attributes: {}, browser: 'firefox' }));
    const b = await store.saveSubscription(subscriptionAt(2, 'updates.push.services.mozilla.com'), () => ({ attributes: {}, browser: 'firefox' }));
    const c = await store.saveSubscription(subscriptionAt(3, 'updates.push.services.mozilla.com'), () => ({ attributes: {}, browser: 'firefox' }));
    await store.createSend(sendRecord('m1'));
    await store.createSend(sendRecord('m2'));
    const now = Date.now();
    // a: the click and Firefox's close in one body (an older worker): the close is stored, not counted.
    const one = await store.recordEvents({ subscriptionId: a.id, countSince: 0, events: [event('shown', 'm1', now), event('clicked', 'm1', now), event('closed', 'm1', now)] });
    expect(one.stored).toBe(3);
    expect(one.counted.map((e) => e.event.type)).toEqual(['shown', 'clicked']);
    // b: the close in a later body (a worker stopped between the two): not counted either.
    await store.recordEvents({ subscriptionId: b.id, countSince: 0, events: [event('shown', 'm1', now), event('clicked', 'm1', now)] });
    const later = await store.recordEvents({ subscriptionId: b.id, countSince: 0, events: [event('closed', 'm1', now)] });
    expect(later).toEqual({ stored: 1, counted: [] });
    // b dismissed another message: counted. c dismissed m1 without a click: counted. A
    // close that came before its click (out of order, which tidings' worker never sends) stays counted.
    const other = await store.recordEvents({ subscriptionId: b.id, countSince: 0, events: [event('closed', 'm2', now), event('clicked', 'm2', now)] });
    expect(other.counted.map((e) => [e.event.type, e.event.messageId])).toEqual([['closed', 'm2'], ['clicked', 'm2']]);
    await store.recordEvents({ subscriptionId: c.id, countSince: 0, events: [event('shown', 'm1', now), event('closed', 'm1', now)] });
    // Unverified events name no subscription: counted as they come, in their own row.
    await store.recordEvents({ countSince: 0, events: [event('clicked', 'm1', now), event('closed', 'm1', now)] });
    const counts = await countsOf('m1');
    expect(counts.verified).toEqual({ delivered: 0, shown: 3, clicked: 2, closed: 1, workerFailed: 0 });
    expect(counts.unverified).toMatchObject({ clicked: 1, closed: 1 });
    expect((await countsOf('m2')).verified).toMatchObject({ clicked: 1, closed: 1 });
    expect(await hourNow()).toMatchObject({ shown: 3, clicked: 3, closed: 2 });
  });

  it('stores but never counts events of unknown messages, without a message, older than countSince, or replayed copies', async () => {
    const { id } = await store.saveSubscription(subscriptionAt(1));
    await store.createSend(sendRecord('m1'));
    const now = Date.now();
    const recorded = await store.recordEvents({
      subscriptionId: id,
      countSince: now - DAY,
      events: [
        event('shown', 'never-sent', now),
        event('subscribed', undefined, now),
        event('failed', undefined, now, { reason: 'invalid-envelope' }),
        event('clicked', 'm1', now - 2 * DAY),
        event('failed', 'm1', now, { reason: 'replayed' }),
        event('resubscribed', 'm1', now),
      ],
    });
    expect(recorded).toEqual({ stored: 6, counted: [] });
    expect((await countsOf('m1')).rows).toEqual([]);
    const failed = await store.recordEvents({ subscriptionId: id, countSince: 0, events: [event('failed', 'm1', now, { reason: 'unseal' })] });
    expect(failed.counted).toHaveLength(1);
    expect((await countsOf('m1')).verified.workerFailed).toBe(1);
  });

  it('counts unverified events apart, never with the verified ones, and nothing for a subscription that is gone', async () => {
    const { id } = await store.saveSubscription(subscriptionAt(1));
    await store.createSend(sendRecord('m1'));
    const now = Date.now();
    const before = await hourNow();
    const unverified = await store.recordEvents({ countSince: 0, events: [event('shown', 'm1', now), event('shown', 'm1', now), event('clicked', 'm1', now)] });
    expect(unverified).toEqual({ stored: 3, counted: [] });
    const counts = await countsOf('m1');
    expect(counts.unverified).toEqual({ delivered: 0, shown: 2, clicked: 1, closed: 0, workerFailed: 0 });
    expect(counts.verified.shown).toBe(0);
    // Unverified events move no hour of the timeline.
    expect((await hourNow()).shown).toBe(before.shown);
    await store.deleteSubscription(id);
    const orphan = await store.recordEvents({ subscriptionId: id, countSince: 0, events: [event('shown', 'm1', now)] });
    expect(orphan.counted).toEqual([]);
    expect((await countsOf('m1')).verified.shown).toBe(0);
    expect((await countsOf('m1')).unverified.shown).toBe(2);
  });

  it('keeps rollups when retention deletes raw events', async () => {
    const { id } = await store.saveSubscription(subscriptionAt(1));
    await store.createSend(sendRecord('m1'));
    const old = Date.now() - 40 * DAY;
    await store.recordEvents({ subscriptionId: id, countSince: 0, events: [event('delivered', 'm1', old), event('shown', 'm1', old)] });
    expect(await store.deleteEventsBefore(Date.now() - 30 * DAY)).toBe(2);
    expect(await store.listEvents({ messageId: 'm1' })).toEqual([]);
    expect((await countsOf('m1')).verified).toMatchObject({ delivered: 1, shown: 1 });
    expect((await store.hourlyStats(Math.floor(old / HOUR) * HOUR, Math.floor(old / HOUR) * HOUR + HOUR))[0]).toMatchObject({ delivered: 1, shown: 1 });
  });

  it('counts subscriptions created and removed into the hour, and records when pushes were accepted', async () => {
    const before = await hourNow();
    const ids = [];
    for (let n = 1; n <= 4; n++) ids.push((await store.saveSubscription(subscriptionAt(n, 'fcm.googleapis.com', { team: n < 3 ? 'red' : 'blue' }))).id);
    await store.saveSubscription(subscriptionAt(1)); // the same endpoint again: not new
    await store.deleteSubscription(ids[0]!);
    await store.deleteSubscription(ids[0]!);
    await store.deleteSubscriptions({ attributes: { team: 'blue' } });
    const after = await hourNow();
    expect(after.subscribed - before.subscribed).toBe(4);
    expect(after.unsubscribed - before.unsubscribed).toBe(3);
    await store.markSent([ids[1]!, 'unknown'], 12345);
    expect((await store.getSubscription(ids[1]!))?.lastSentAt).toBe(12345);
  });

  it('counts subscriptions by push service, browser family and an attribute, values typed, the rest summed', async () => {
    const save = (n: number, host: string, browser: string, attributes: Record<string, string | number | boolean>) =>
      store.saveSubscription(subscriptionAt(n, host, attributes), () => ({ attributes, browser }));
    await save(1, 'fcm.googleapis.com', 'chrome', { team: 'red' });
    await save(2, 'fcm.googleapis.com', 'edge', { team: 'red' });
    await save(3, 'updates.push.services.mozilla.com', 'firefox', { team: 'blue' });
    await save(4, 'web.push.apple.com', 'safari', { team: 7 });
    await save(5, 'wns2-par02p.notify.windows.com', 'edge', { team: '7' });
    await save(6, 'push.example.net', 'other', {});
    expect(await store.subscriberCounts()).toEqual({
      total: 6,
      byService: { fcm: 2, mozilla: 1, apple: 1, windows: 1, other: 1 },
      byBrowser: { chrome: 1, edge: 2, firefox: 1, safari: 1, other: 1 },
    });
    const { byAttribute } = await store.subscriberCounts({ by: 'team', top: 2 });
    expect(byAttribute).toEqual({ values: [{ value: 'red', count: 2 }, { value: '7', count: 1 }], other: 2, none: 1 });
    expect((await store.subscriberCounts({ by: 'team' })).byAttribute?.values).toEqual([
      { value: 'red', count: 2 },
      { value: '7', count: 1 },
      { value: 'blue', count: 1 },
      { value: 7, count: 1 },
    ]);
    expect((await store.subscriberCounts({ by: 'nobody-has-it' })).byAttribute).toEqual({ values: [], other: 0, none: 6 });
  });

  it('answers the stats from the log and the rollups', async () => {
    const stats = createPushStats(store);
    const a = await store.saveSubscription(subscriptionAt(1), () => ({ attributes: { user: 'u1' }, browser: 'chrome' }));
    const b = await store.saveSubscription(subscriptionAt(2, 'updates.push.services.mozilla.com'), () => ({ attributes: { user: 'u1' }, browser: 'firefox' }));
    const now = Date.now();
    await store.createSend(sendRecord('m1', { createdAt: now - 2000, state: 'running', startedAt: now - 2000 }));
    await store.createSend(sendRecord('m2', { createdAt: now - 1000 }));
    await store.updateSend('m1', {
      state: 'done',
      finishedAt: now,
      counts: { targeted: 3, sent: 2, failed: 1 },
      services: { fcm: { sent: 1, failed: 1 }, mozilla: { sent: 1 } },
      failures: [{ cause: 'http-4xx', host: 'fcm.googleapis.com', count: 1, sample: 'bad' }],
    });
    await store.recordEvents({ subscriptionId: a.id, countSince: 0, events: [event('delivered', 'm1'), event('shown', 'm1'), event('clicked', 'm1')] });
    await store.recordEvents({ subscriptionId: b.id, countSince: 0, events: [event('delivered', 'm1'), event('shown', 'm1')] });
    await store.recordEvents({ countSince: 0, events: [event('clicked', 'm1')] });

    const message = await stats.message('m1');
    expect(message).toMatchObject({
      id: 'm1',
      title: 'Title m1',
      state: 'done',
      targeted: 3,
      sent: 2,
      failed: 1,
      delivered: 2,
      shown: 2,
      clicked: 1,
      clickRate: 0.5,
      closeRate: 0,
      byService: {
        fcm: { sent: 1, gone: 0, failed: 1, delivered: 1, shown: 1, clicked: 1, closed: 0, workerFailed: 0 },
        mozilla: { sent: 1, gone: 0, failed: 0, delivered: 1, shown: 1, clicked: 0, closed: 0, workerFailed: 0 },
      },
      byBrowser: { chrome: { delivered: 1, shown: 1, clicked: 1, closed: 0, workerFailed: 0 }, firefox: { delivered: 1, shown: 1, clicked: 0, closed: 0, workerFailed: 0 } },
      unverified: { delivered: 0, shown: 0, clicked: 1, closed: 0, workerFailed: 0 },
      errors: [{ cause: 'http-4xx', host: 'fcm.googleapis.com', count: 1, sample: 'bad' }],
    });
    expect(message).not.toHaveProperty('services');
    expect(await stats.message('none')).toBeUndefined();

    const page = await stats.messages({ limit: 1 });
    expect(page.items.map((item) => item.id)).toEqual(['m2']);
    expect(page.items[0]).toMatchObject({ clickRate: null, shown: 0 });
    const second = await stats.messages({ limit: 1, after: page.next! });
    expect(second.items.map((item) => [item.id, item.shown, item.clickRate])).toEqual([['m1', 2, 0.5]]);
    expect(second.next).toBeUndefined();

    const timeline = await stats.timeline({ since: now - 3 * HOUR, until: now, bucket: 'hour' });
    expect(timeline.points).toHaveLength(4);
    expect(timeline.points.at(-1)).toMatchObject({ messages: 1, sent: 2, delivered: 2, shown: 2, clicked: 1, subscribed: 2 });
    expect(timeline.points.slice(0, 3).every((p) => p.messages + p.sent + p.shown + p.subscribed === 0)).toBe(true);
    const days = await stats.timeline({ since: now - 6 * DAY, bucket: 'day' });
    expect(days.points).toHaveLength(7);
    expect(days.points.at(-1)).toMatchObject({ clicked: 1, subscribed: 2 });

    const subscribers = await stats.subscribers({ by: 'user', since: now - 2 * DAY });
    expect(subscribers).toMatchObject({ total: 2, byService: { fcm: 1, mozilla: 1 }, byBrowser: { chrome: 1, firefox: 1 }, byAttribute: { key: 'user', values: [{ value: 'u1', count: 2 }], other: 0, none: 0 } });
    expect(subscribers.daily).toHaveLength(3);
    expect(subscribers.daily.at(-1)).toMatchObject({ created: 2, removed: 0, total: 2 });
    expect(subscribers.daily[0]).toMatchObject({ created: 0, total: 0 });

    const found = await stats.subscriptions({ to: { attributes: { user: 'u1' } }, limit: 1 });
    expect(found.items).toHaveLength(1);
    expect(found.items[0]).toEqual({ id: found.items[0]!.id, service: expect.any(String), browser: expect.any(String), host: expect.any(String), attributes: { user: 'u1' }, createdAt: expect.any(Number), updatedAt: expect.any(Number) });
    expect(JSON.stringify(found)).not.toContain('/send/');
    const rest = await stats.subscriptions({ to: { attributes: { user: 'u1' } }, limit: 1, after: found.next! });
    expect(rest.items).toHaveLength(1);
    expect(rest.next).toBeUndefined();
  });
}
