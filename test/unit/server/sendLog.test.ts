import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore, type PushServer, type SubscriptionStore } from '../../../src/server/index.js';
import type { InsightEvent } from '../../../src/server/stats/statsTypes.js';
import { PAGE_SIZE } from '../../../src/server/send/pagedSubscriptions.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';

// push.send()'s send log: a row written when the send starts, once per page of
// subscribers, and when it ends; failures grouped by cause and host; onEvent told once.
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let service: PushService;
let store: SubscriptionStore;
let writes: { method: string; state?: string }[];
let events: InsightEvent[];
let errors: unknown[];
let push: PushServer;

/** The memory store, with its send-log writes recorded in order. */
function recording(base: SubscriptionStore): SubscriptionStore {
  return {
    ...base,
    createSend: async (record) => {
      writes.push({ method: 'createSend', state: record.state });
      return base.createSend(record);
    },
    updateSend: async (id, update) => {
      writes.push({ method: 'updateSend', ...(update.state ? { state: update.state } : {}) });
      return base.updateSend(id, update);
    },
  };
}

beforeEach(async () => {
  service = await startPushService();
  writes = [];
  events = [];
  errors = [];
  store = recording(memoryStore());
  push = createPushServer({ vapid, store, retries: 0, timeout: 5000, allowLoopbackEndpoints: true, onEvent: (e) => void events.push(e), onError: (e) => void errors.push(e) });
});
afterEach(() => service.close());

describe('the send log of push.send()', () => {
  it('records the send with its envelope, audience, options and sender, its outcome, and failures by cause and host', async () => {
    const live = await Promise.all([1, 2, 3].map(() => service.subscribe(vapid.publicKey)));
    for (const subscription of live) await store.saveSubscription({ subscription, attributes: { team: 'red' } });
    service.expire(live[0]!.endpoint);
    await store.saveSubscription({ subscription: { endpoint: 'http://127.0.0.1:9/wpush/v2/nobody', expirationTime: null, keys: live[1]!.keys }, attributes: { team: 'red' } });
    await store.saveSubscription({ subscription: { ...live[1]!, endpoint: 'https://push.evil.example/x' }, attributes: { team: 'red' } });
    const result = await push.send(
      { v: 1, id: 'm1', type: 'promo', notification: { title: 'Sale', url: '/sale' } },
      { to: { attributes: { team: 'red' } }, by: 'ann@example.com', ttl: 600, urgency: 'high' },
    );
    expect(result).toMatchObject({ sent: 2, gone: 1, failed: 2 });
    const stats = await push.stats.message('m1');
    expect(stats).toMatchObject({
      id: 'm1',
      title: 'Sale',
      url: '/sale',
      type: 'promo',
      by: 'ann@example.com',
      via: 'send',
      state: 'done',
      audience: { attributes: { team: 'red' } },
      options: { ttl: 600, urgency: 'high' },
      envelope: { v: 1, id: 'm1', type: 'promo', notification: { title: 'Sale', url: '/sale' } },
      targeted: 5,
      sent: 2,
      gone: 1,
      failed: 2,
      pruned: 0,
      byService: { other: { sent: 2, gone: 1, failed: 2 } },
    });
    expect(stats!.errors).toEqual([
      { cause: 'endpoint-refused', host: '', count: 1, sample: expect.stringContaining('endpoint-refused') },
      { cause: 'network', host: '127.0.0.1:9', count: 1, sample: expect.stringMatching(/^network/) },
    ]);
    expect(stats!.startedAt).toBe(stats!.createdAt);
    expect(stats!.finishedAt).toBeGreaterThanOrEqual(stats!.startedAt!);
    expect(await push.status('m1')).toMatchObject({ id: 'm1', state: 'done', sent: 2 });
    expect(await push.status('none')).toBeUndefined();
    // Written when it started and when it ended: a row, not a row per push.
    expect(writes).toEqual([{ method: 'createSend', state: 'running' }, { method: 'updateSend', state: 'done' }]);
    expect(events).toEqual([{ kind: 'message.send.finished', id: 'm1.finished', timestamp: stats!.finishedAt, message: { id: 'm1', title: 'Sale' }, send: expect.objectContaining({ id: 'm1', sent: 2 }) }]);
    expect((await store.findSubscriptions()).filter((entry) => entry.lastSentAt !== undefined)).toHaveLength(2);
  });

  it('writes the row once per page of subscribers, never per push', async () => {
    // Endpoints of no allowed push service fail at once, without a request.
    const n = 2 * PAGE_SIZE + 5;
    for (let i = 0; i < n; i++) await store.saveSubscription({ subscription: { endpoint: `https://push.example.net/${i}`, keys: { p256dh: 'p', auth: 'a' } } });
    const result = await push.send({ v: 1, id: 'paged', notification: { title: 'Pages' } });
    expect(result.failed).toBe(n);
    expect(writes.map((w) => w.method)).toEqual(['createSend', 'updateSend', 'updateSend', 'updateSend']);
    expect(await push.stats.message('paged')).toMatchObject({ targeted: n, failed: n, errors: [{ cause: 'endpoint-refused', host: '', count: n }] });
  });

  it('stops between pages when its row was cancelled meanwhile, and stays cancelled', async () => {
    const n = 2 * PAGE_SIZE + 5;
    for (let i = 0; i < n; i++) await store.saveSubscription({ subscription: { endpoint: `https://push.example.net/${i}`, keys: { p256dh: 'p', auth: 'a' } } });
    const base = store;
    let pages = 0;
    const cancelling: SubscriptionStore = {
      ...base,
      updateSend: async (id, update) => {
        // Someone cancels it while the first page goes out.
        if (update.state === undefined && pages++ === 0) await base.updateSend(id, { state: 'cancelled', finishedAt: Date.now() });
        return base.updateSend(id, update);
      },
    };
    const server = createPushServer({ vapid, store: cancelling, onEvent: (e) => void events.push(e) });
    const result = await server.send({ v: 1, id: 'cancel-me', notification: { title: 'x' } });
    // The next page is read while the first one's pushes run: those already started when
    // the cancel is heard (at most `concurrency`) finish, and are counted.
    expect(result.failed).toBeGreaterThanOrEqual(PAGE_SIZE);
    expect(result.failed).toBeLessThanOrEqual(PAGE_SIZE + 50);
    expect(await server.stats.message('cancel-me')).toMatchObject({ state: 'cancelled', targeted: result.failed, failed: result.failed });
  });

  it('adds a retried send of the same id to its row', async () => {
    const subscription = await service.subscribe(vapid.publicKey);
    await store.saveSubscription({ subscription });
    await push.send({ v: 1, id: 'again', notification: { title: 'Once' } });
    await push.send({ v: 1, id: 'again', notification: { title: 'Twice' } });
    expect(await push.stats.message('again')).toMatchObject({ title: 'Once', targeted: 2, sent: 2, state: 'done' });
    expect(events.filter((e) => e.kind === 'message.send.finished')).toHaveLength(1);
  });

  it('records a send that failed, with why, and still rejects', async () => {
    await store.saveSubscription({ subscription: await service.subscribe(vapid.publicKey) });
    const broken = createPushServer({ vapid, store: { ...store, findSubscriptions: async () => Promise.reject(new Error('database gone')) }, allowLoopbackEndpoints: true });
    await expect(broken.send({ v: 1, id: 'broken', notification: { title: 'x' } })).rejects.toThrow('database gone');
    expect(await broken.stats.message('broken')).toMatchObject({ state: 'failed', error: 'database gone' });
  });

  it('loses nothing to an onEvent that throws or rejects: onError hears it', async () => {
    for (const onEvent of [() => { throw new Error('sync'); }, async () => { throw new Error('async'); }]) {
      const own: unknown[] = [];
      const server = createPushServer({ vapid, store, allowLoopbackEndpoints: true, onEvent, onError: (e) => void own.push(e) });
      await store.saveSubscription({ subscription: await service.subscribe(vapid.publicKey) });
      const id = `m-${own.length}-${Math.random()}`;
      const result = await server.send({ v: 1, id, notification: { title: 'x' } });
      expect(result.sent).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(own).toEqual([expect.objectContaining({ message: expect.stringMatching(/sync|async/) })]);
      expect(await server.stats.message(id)).toMatchObject({ state: 'done' });
    }
  });

  it('goes on when a mid-send write of the row fails, and says so to onError', async () => {
    const n = PAGE_SIZE + 1;
    for (let i = 0; i < n; i++) await store.saveSubscription({ subscription: { endpoint: `https://push.example.net/${i}`, keys: { p256dh: 'p', auth: 'a' } } });
    let calls = 0;
    const flaky = createPushServer({
      vapid,
      store: { ...store, updateSend: async (id, update) => (calls++ === 0 ? Promise.reject(new Error('blip')) : store.updateSend(id, update)) },
      onError: (e) => void errors.push(e),
    });
    expect((await flaky.send({ v: 1, id: 'blip', notification: { title: 'x' } })).failed).toBe(n);
    expect(errors).toEqual([expect.objectContaining({ message: 'blip' })]);
    expect(await flaky.stats.message('blip')).toMatchObject({ state: 'done', targeted: n, failed: n });
  });

  it('checks by: plain text of 1 to 200 characters', async () => {
    for (const by of ['', 'x'.repeat(201), 'a\u0007b', 42]) {
      await expect(push.send({ v: 1, notification: { title: 'x' } }, { by: by as string })).rejects.toMatchObject({ code: 'invalid-option', details: { option: 'by' } });
    }
    expect(writes).toEqual([]);
  });

  it('refuses a store without the send log, naming the method', () => {
    const old = { ...memoryStore(), updateSend: undefined } as unknown as SubscriptionStore;
    expect(() => createPushServer({ vapid, store: old })).toThrow(
      expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'store', reason: expect.stringContaining('updateSend()') }) }),
    );
  });
});
