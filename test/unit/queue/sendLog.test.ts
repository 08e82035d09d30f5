import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { batchJobId } from '../../../src/queue/queueSetup.js';
import { createSendQueue, startSendWorker, type SendQueue, type SendWorker } from '../../../src/queue/index.js';
import { createPushServer, generateVapidKeys, memoryStore, type SubscriptionStore } from '../../../src/server/index.js';
import type { InsightEvent, MessageStats } from '../../../src/server/stats/statsTypes.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { freshName, redisUrl, serviceAnswers } from '../../support/services.js';

// The send log of queued sends: one row per send in the store, brought up to date by
// whichever sender ran each batch, from the ledger's exact counts in Redis. Real Redis,
// BullMQ, the local push service and web-push.
const up = await serviceAnswers('Redis', redisUrl);
const vapid = { ...generateVapidKeys(), subject: 'mailto:queue@tidings.example' };

describe.runIf(up)('the send log of queued sends', () => {
  let pushService: PushService;
  let store: SubscriptionStore;
  let name: string;
  let queue: SendQueue;
  const workers: SendWorker[] = [];
  const events: InsightEvent[] = [];

  beforeAll(async () => {
    pushService = await startPushService();
  });
  afterAll(() => pushService.close());
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    await queue?.close();
    await cleanRedis(name);
    events.length = 0;
  });

  const setup = async (subscribers: number, batchSize: number) => {
    name = freshName('tidings-log');
    store = memoryStore();
    for (let i = 0; i < subscribers; i++) await store.saveSubscription({ subscription: await pushService.subscribe(vapid.publicKey) });
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize, allowLoopbackEndpoints: true });
  };
  const sender = async (on: SubscriptionStore = store) => {
    const worker = await startSendWorker({
      redis: redisUrl,
      store: on,
      vapid,
      name,
      concurrency: 3,
      allowLoopbackEndpoints: true,
      retries: 0,
      timeout: 2000,
      onEvent: (event) => void events.push(event),
    });
    workers.push(worker);
    return worker;
  };
  /** The send log's row once it says the send is over. */
  const finished = async (id: string): Promise<MessageStats> => {
    let stats: MessageStats | undefined;
    await until(async () => ['done', 'failed'].includes((stats = await queue.stats.message(id))?.state ?? ''));
    return stats!;
  };

  it('holds one exact record per send, whichever of two senders ran which batch and however often', async () => {
    await setup(21, 4);
    const [gone] = await store.findSubscriptions({ limit: 1 });
    pushService.expire(gone!.subscription.endpoint);
    // A push service that is not there: a network failure, from the host 127.0.0.1:9.
    await store.saveSubscription({ subscription: { endpoint: 'http://127.0.0.1:9/wpush/v2/nobody', expirationTime: null, keys: (await pushService.subscribe()).keys } });
    const { id } = await queue.send({ v: 1, notification: { title: 'Queued', url: '/q' }, type: 'news' }, { by: 'ann', ttl: 60 });
    expect(await queue.stats.message(id)).toMatchObject({ id, via: 'queue', state: 'queued', by: 'ann', title: 'Queued', url: '/q', type: 'news', options: { ttl: 60 }, targeted: 0 });
    await sender();
    await sender();
    const first = await finished(id);
    expect(first).toMatchObject({ state: 'done', targeted: 22, sent: 20, gone: 1, failed: 1, pruned: 0 });
    expect(first.byService).toEqual({ other: { sent: 20, gone: 1, failed: 1, delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0 } });
    expect(first.errors).toEqual([{ cause: 'network', host: '127.0.0.1:9', count: 1, sample: expect.stringMatching(/^network/) }]);
    expect(first.startedAt).toBeGreaterThanOrEqual(first.createdAt);
    expect(first.finishedAt).toBeGreaterThanOrEqual(first.startedAt!);
    expect(await queue.status(id)).toMatchObject({ sent: 20, gone: 1, failed: 1 });

    // Two batches handed out again (a sender that looked dead): their sync runs again.
    const bull = new Queue(name, { connection: { url: redisUrl } });
    await bull.add('batch', { id, k: 0 }, { jobId: `${batchJobId(id, 0)}.again` });
    await bull.add('batch', { id, k: 5, after: 'x' }, { jobId: `${batchJobId(id, 5)}.again` });
    await until(async () => ((await bull.getJobCounts('completed')).completed ?? 0) >= 8);
    await bull.close();
    expect(await queue.stats.message(id)).toEqual(first);
    // One finish reported, by whichever sender finished it.
    expect(events.filter((e) => e.kind === 'message.send.finished')).toEqual([
      { kind: 'message.send.finished', id: `${id}.finished`, timestamp: first.finishedAt, message: { id, title: 'Queued' }, send: expect.objectContaining({ id, state: 'done', sent: 20 }) },
    ]);
    // A push server over the same store reads the same record.
    const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
    expect(await push.stats.message(id)).toEqual(first);
    expect((await push.stats.messages()).items.map((item) => item.id)).toEqual([id]);
    // Who was reached, once per batch.
    const reached = await store.findSubscriptions({ limit: 100 });
    expect(reached.filter((entry) => entry.lastSentAt !== undefined)).toHaveLength(20);
  });

  it('brings the record up to date on a rerun when a sender could not write it', async () => {
    await setup(6, 3);
    let refusals = 1;
    // A store that fails the write of the send's end (a dropped connection), then
    // recovers: BullMQ runs that batch again, which reaches nobody twice and writes it.
    const flaky: SubscriptionStore = {
      ...store,
      updateSend: async (id, update) => {
        if (update.state === 'done' && refusals > 0) {
          refusals--;
          throw new Error('connection lost');
        }
        return store.updateSend(id, update);
      },
    };
    await sender(flaky);
    const { id } = await queue.send({ v: 1, notification: { title: 'Flaky' } });
    expect(await finished(id)).toMatchObject({ state: 'done', targeted: 6, sent: 6, gone: 0, failed: 0 });
    expect(refusals).toBe(0);
    expect(await queue.status(id)).toMatchObject({ state: 'done', sent: 6 });
    for (const entry of await store.findSubscriptions()) expect(await pushService.received(entry.subscription.endpoint)).toHaveLength(1);
  });

  it('records a send that failed, with why', async () => {
    await setup(4, 2);
    const broken: SubscriptionStore = { ...store, findSubscriptions: (query) => store.findSubscriptions({ ...query, after: undefined }) };
    await sender(broken);
    const { id } = await queue.send({ v: 1, notification: { title: 'Broken store' } });
    const stats = await finished(id);
    expect(stats).toMatchObject({ state: 'failed', error: expect.stringContaining('store-failed'), sent: 2 });
    expect(events.filter((e) => e.kind === 'message.send.finished')).toHaveLength(1);
  });

  it('refuses a store without the send log, naming what it lacks', () => {
    const old = { ...memoryStore(), createSend: undefined } as unknown as SubscriptionStore;
    expect(() => createSendQueue({ redis: redisUrl, store: old, vapid })).toThrow(expect.objectContaining({ code: 'invalid-option', message: expect.stringContaining('store') }));
  });
});

async function until(check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function cleanRedis(name: string | undefined): Promise<void> {
  if (!name) return;
  const queue = new Queue(name, { connection: { url: redisUrl } });
  await queue.obliterate({ force: true });
  const client = (await queue.client) as unknown as { keys(pattern: string): Promise<string[]>; del(key: string): Promise<number> };
  for (const key of await client.keys(`tidings:${name}:*`)) await client.del(key);
  await queue.close();
}
