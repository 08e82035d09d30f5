import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSendQueue, startSendWorker, type SendQueue, type SendWorker, type SendWorkerOptions } from '../../../src/queue/index.js';
import { generateVapidKeys, memoryStore, type InsightEvent, type SubscriptionStore } from '../../../src/server/index.js';
import type { Envelope } from '../../../src/shared/protocol.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { freshName, redisUrl, serviceAnswers } from '../../support/services.js';

// The sending controls through the queue (real Redis and BullMQ, senders in this process):
// a send at a later time (a BullMQ delayed job), cancel, slices by local time (planned
// with a clock set just before New York's 09:00), caps, languages. The heavy ones (a
// restart of every process, 20,000 subscribers cancelled mid-send, the throttle across
// two senders) are in test/e2e.
const up = await serviceAnswers('Redis', redisUrl);
const vapid = { ...generateVapidKeys(), subject: 'mailto:queue@tidings.example' };

async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !(await check()); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.runIf(up)('the sending controls of the queue', () => {
  let pushService: PushService;
  let store: SubscriptionStore;
  let name: string;
  let queue: SendQueue;
  const workers: SendWorker[] = [];

  beforeAll(async () => {
    pushService = await startPushService();
  });
  afterAll(() => pushService.close());
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    await queue?.close();
    const bull = new Queue(name, { connection: { url: redisUrl } });
    await bull.obliterate({ force: true });
    const client = (await bull.client) as unknown as { keys(pattern: string): Promise<string[]>; del(key: string): Promise<number> };
    for (const key of await client.keys(`tidings:${name}:*`)) await client.del(key);
    await bull.close();
  });

  const setup = (options: Partial<Parameters<typeof createSendQueue>[0]> = {}) => {
    name = freshName('tidings-controls');
    store = memoryStore();
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize: 10, allowLoopbackEndpoints: true, ...options });
  };
  const subscriber = async (attributes: Record<string, string> = {}) => {
    const subscription = await pushService.subscribe(vapid.publicKey);
    const { id } = await store.saveSubscription({ subscription, attributes });
    return { id, endpoint: subscription.endpoint };
  };
  const sender = async (options: Partial<SendWorkerOptions> = {}) => {
    const worker = await startSendWorker({ redis: redisUrl, store, vapid, name, concurrency: 4, allowLoopbackEndpoints: true, ...options });
    workers.push(worker);
  };
  const received = async (endpoint: string): Promise<Envelope[]> => (await pushService.received(endpoint)).map((text) => JSON.parse(text) as Envelope);

  it('lists its controls, and keeps a send at a later time in a delayed job until then', async () => {
    setup();
    expect(queue.controls).toEqual(['at', 'localTime', 'timeZone', 'quietHours', 'perSecond', 'cap', 'locales']);
    const { endpoint } = await subscriber();
    await sender();
    const at = Date.now() + 1500;
    const answer = await queue.send({ v: 1, id: 'later', data: 1 }, { at });
    expect(answer).toEqual({ id: 'later', scheduledAt: at });
    expect(await queue.status('later')).toMatchObject({ state: 'scheduled', sent: 0 });
    expect(await store.getSend('later')).toMatchObject({ state: 'scheduled', scheduledAt: at, via: 'queue' });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(pushService.messages(endpoint)).toHaveLength(0);
    const final = await queue.wait('later', { interval: 25 });
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    expect(final).toMatchObject({ state: 'done', sent: 1 });
    expect(pushService.messages(endpoint)[0]!.receivedAt).toBeGreaterThanOrEqual(at);
    await until(async () => (await store.getSend('later'))?.state === 'done');
    expect(await store.getSend('later')).toMatchObject({ targeted: 1, sent: 1 });
  });

  it('sends nothing of a send cancelled before its time; the queue that cancelled it tells its onEvent', async () => {
    const events: InsightEvent[] = [];
    setup({ onEvent: (event) => void events.push(event) });
    const { endpoint } = await subscriber();
    await sender();
    await queue.send({ v: 1, id: 'never', data: 1 }, { at: Date.now() + 700 });
    expect(await queue.cancel('never')).toMatchObject({ state: 'cancelled', sent: 0 });
    expect(events).toEqual([expect.objectContaining({ kind: 'message.send.finished', id: 'never.finished', send: expect.objectContaining({ id: 'never', state: 'cancelled' }) })]);
    expect(await queue.cancel('unknown')).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(pushService.messages(endpoint)).toHaveLength(0);
    expect(await queue.status('never')).toMatchObject({ state: 'cancelled' });
    expect(await store.getSend('never')).toMatchObject({ state: 'cancelled', sent: 0, targeted: 0 });
  });

  it("sends each subscriber's slice at their 09:00, counting those who waited as deferred, and cancels the slices to come", async () => {
    // 08:59:58.5 in New York: its slice is due in 1.5 s of real time; Tokyo's in hours.
    const newYorkNine = Date.parse('2030-01-15T14:00:00Z');
    const started = Date.now();
    setup({ now: () => newYorkNine - 1500 + (Date.now() - started) });
    const newYork = await subscriber({ timeZone: 'America/New_York' });
    const tokyo = await subscriber({ timeZone: 'Asia/Tokyo' });
    await sender();
    const { scheduledAt } = await queue.send({ v: 1, id: 'nine', data: 1 }, { localTime: '09:00', timeZone: 'Asia/Tokyo' });
    // Some zone's 09:00 comes first (12:00 UTC is 09:00 in Buenos Aires, already past: the next is later).
    expect(scheduledAt).toBeLessThanOrEqual(newYorkNine);
    await until(() => pushService.messages(newYork.endpoint).length === 1);
    await until(async () => (await queue.status('nine')).sent === 1);
    expect(await queue.status('nine')).toMatchObject({ state: 'running', sent: 1, deferred: 1 });
    expect(pushService.messages(tokyo.endpoint)).toHaveLength(0);
    await until(async () => (await store.getSend('nine'))?.sent === 1);
    expect(await store.getSend('nine')).toMatchObject({ state: 'running', sent: 1, deferred: 1, targeted: 1 });
    expect(await queue.cancel('nine')).toMatchObject({ state: 'cancelled', sent: 1 });
    expect(await store.getSend('nine')).toMatchObject({ state: 'cancelled', sent: 1 });
  });

  it('skips subscribers past the cap, counting them capped, and gives each their language', async () => {
    setup({ cap: { max: 1, per: '1d' } });
    const fr = await subscriber({ language: 'fr-CA' });
    const de = await subscriber({ language: 'de' });
    await sender();
    const locales = { fr: { notification: { title: 'Bonjour' } } };
    await queue.send({ v: 1, id: 'first', notification: { title: 'Hello' } }, { locales, to: [fr.id] });
    expect(await queue.wait('first', { interval: 25 })).toMatchObject({ state: 'done', sent: 1 });
    await queue.send({ v: 1, id: 'second', notification: { title: 'Hello' } }, { locales });
    expect(await queue.wait('second', { interval: 25 })).toMatchObject({ state: 'done', sent: 1, capped: 1 });
    expect((await received(fr.endpoint)).map((m) => m.notification?.title)).toEqual(['Bonjour']);
    expect((await received(de.endpoint)).map((m) => m.notification?.title)).toEqual(['Hello']);
    await until(async () => (await store.getSend('second'))?.state === 'done');
    expect(await store.getSend('second')).toMatchObject({ targeted: 2, sent: 1, capped: 1 });
    // Past the default cap: sent, and recorded.
    await queue.send({ v: 1, id: 'reset', data: 1 }, { cap: false, to: [fr.id] });
    expect(await queue.wait('reset', { interval: 25 })).toMatchObject({ sent: 1 });
  });

  it('refuses bad controls before queueing anything', async () => {
    setup();
    await expect(queue.send({ v: 1 }, { localTime: '25:00' })).rejects.toThrow(/invalid-option localTime/);
    await expect(queue.send({ v: 1 }, { perSecond: 0 })).rejects.toThrow(/invalid-option perSecond/);
    await expect(queue.send({ v: 1, id: 'a\u0000b' })).rejects.toThrow(/invalid-option envelope\.id/);
    expect(await store.listSends({ limit: 10 })).toEqual([]);
  });
});
