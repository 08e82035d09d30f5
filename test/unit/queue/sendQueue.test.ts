import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSendLedger, type LedgerClient } from '../../../src/queue/createSendLedger.js';
import { batchJobId } from '../../../src/queue/queueSetup.js';
import { createSendQueue, startSendWorker, type SendQueue, type SendStatus, type SendWorker } from '../../../src/queue/index.js';
import { generateVapidKeys, memoryStore, type SubscriptionStore } from '../../../src/server/index.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { freshName, redisUrl, serviceAnswers } from '../../support/services.js';

// Real Redis, real BullMQ, the real local push service and real web-push encryption, all
// in this process. The crash of a sender (SIGKILL of another process) is
// test/e2e/queue-kill.test.ts.
const up = await serviceAnswers('Redis', redisUrl);
const vapid = { ...generateVapidKeys(), subject: 'mailto:queue@tidings.example' };

describe.runIf(up)('createSendQueue and startSendWorker', () => {
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
    await cleanRedis(name);
  });

  const setup = async (subscribers: number, batchSize: number) => {
    name = freshName('tidings-test');
    store = memoryStore();
    const endpoints: string[] = [];
    for (let i = 0; i < subscribers; i++) {
      const subscription = await pushService.subscribe(vapid.publicKey);
      endpoints.push(subscription.endpoint);
      await store.saveSubscription({ subscription, attributes: { team: i % 2 ? 'odd' : 'even' } });
    }
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize, allowLoopbackEndpoints: true });
    return endpoints;
  };
  const sender = async (concurrency = 4) => {
    const worker = await startSendWorker({ redis: redisUrl, store, vapid, name, concurrency, allowLoopbackEndpoints: true, retries: 0, timeout: 2000 });
    workers.push(worker);
    return worker;
  };
  const ids = async (endpoint: string) => (await pushService.received(endpoint)).map((text) => (JSON.parse(text) as { id: string }).id);

  it('delivers to every subscriber once, over several batches and two senders, with exact counts', async () => {
    const endpoints = await setup(23, 5);
    const { id } = await queue.send({ v: 1, notification: { title: 'Batches' } });
    expect((await queue.status(id)).state).toBe('queued');
    await sender();
    await sender();
    const progress: SendStatus[] = [];
    const final = await queue.wait(id, { onProgress: (status) => progress.push(status), interval: 20 });
    expect(final).toEqual({ id, state: 'done', total: 23, sent: 23, gone: 0, failed: 0 });
    expect(progress.at(-1)).toEqual(final);
    for (const endpoint of endpoints) expect(await ids(endpoint)).toEqual([id]);
    // A first run: nothing says the worker should wait for its seen ids.
    for (const endpoint of endpoints) expect(await pushService.received(endpoint)).not.toContainEqual(expect.stringContaining('"retry"'));
  });

  it('sends to attributes, counts gone and failed subscribers once, and prunes the gone', async () => {
    const endpoints = await setup(8, 3);
    const even = (await store.findSubscriptions({ attributes: { team: 'even' } })).map((entry) => entry.subscription.endpoint);
    pushService.expire(even[0]!);
    // A push service that is not there: a network error, failed after no retries.
    await store.saveSubscription({
      subscription: { endpoint: 'http://127.0.0.1:9/wpush/v2/nobody', expirationTime: null, keys: (await pushService.subscribe()).keys },
      attributes: { team: 'even' },
    });
    await sender();
    const { id } = await queue.send({ v: 1, notification: { title: 'Evens' } }, { to: { attributes: { team: 'even' } } });
    const final = await queue.wait(id, { interval: 20 });
    expect(final).toEqual({ id, state: 'done', total: 5, sent: 3, gone: 1, failed: 1 });
    expect(await store.getSubscriptionByEndpoint(even[0]!)).toBeUndefined();
    for (const endpoint of even.slice(1)) expect(await ids(endpoint)).toEqual([id]);
    for (const endpoint of endpoints.filter((e) => !even.includes(e))) expect(await ids(endpoint)).toEqual([]);
  });

  it('sends nothing twice and counts nothing twice when a batch job runs again', async () => {
    const endpoints = await setup(6, 4);
    await sender();
    const { id } = await queue.send({ v: 1, notification: { title: 'Once' } });
    const first = await queue.wait(id, { interval: 20 });
    expect(first).toMatchObject({ state: 'done', total: 6, sent: 6 });
    for (const endpoint of endpoints) expect(await ids(endpoint)).toEqual([id]);
    // BullMQ hands a batch out again when its sender looked dead: the same batch, again.
    const bull = new Queue(name, { connection: { url: redisUrl } });
    await bull.add('batch', { id, k: 0 }, { jobId: `${batchJobId(id, 0)}.again` });
    await bull.add('batch', { id, k: 1, after: 'x' }, { jobId: `${batchJobId(id, 1)}.again` });
    await until(async () => ((await bull.getJobCounts('completed')).completed ?? 0) >= 4);
    await bull.close();
    expect(await queue.status(id)).toEqual(first);
    for (const endpoint of endpoints) expect(await ids(endpoint)).toEqual([]);
  });

  it('marks the pushes of a batch that runs again as possible repeats (retry), skipping those already counted', async () => {
    const endpoints = await setup(4, 10);
    const { id } = await queue.send({ v: 1, notification: { title: 'Again' } });
    // What a sender killed mid-batch leaves: the batch planned, one subscriber counted.
    const bull = new Queue(name, { connection: { url: redisUrl } });
    const ledger = createSendLedger((await bull.client) as unknown as LedgerClient, name);
    const members = (await store.findSubscriptions()).map((entry) => entry.id);
    await ledger.plan(id, 0, members, true);
    await ledger.count(id, members[0]!, 'sent');
    await bull.close();
    await sender();
    expect(await queue.wait(id, { interval: 20 })).toMatchObject({ state: 'done', total: 4, sent: 4 });
    const received = await Promise.all(endpoints.map(async (endpoint) => (await pushService.received(endpoint)).map((text) => JSON.parse(text))));
    const first = endpoints.indexOf((await store.findSubscriptions({ ids: [members[0]!] }))[0]!.subscription.endpoint);
    expect(received[first]).toEqual([]);
    expect(received.filter((_, i) => i !== first)).toEqual(Array(3).fill([{ v: 1, id, notification: { title: 'Again' }, retry: true }]));
  });

  it('keeps one send per message id: queuing the same envelope again sends nothing new', async () => {
    const endpoints = await setup(3, 10);
    const envelope = { v: 1 as const, id: 'fixed-id:1', notification: { title: 'Retried call' } };
    expect(await queue.send(envelope)).toEqual({ id: 'fixed-id:1' });
    expect(await queue.send(envelope)).toEqual({ id: 'fixed-id:1' });
    await sender();
    expect(await queue.wait('fixed-id:1', { interval: 20 })).toMatchObject({ state: 'done', sent: 3 });
    for (const endpoint of endpoints) expect(await ids(endpoint)).toEqual(['fixed-id:1']);
  });

  it('finishes a send with no audience as done with a total of 0', async () => {
    await setup(2, 10);
    await sender();
    const { id } = await queue.send({ v: 1, notification: { title: 'Nobody' } }, { to: { attributes: { team: 'none' } } });
    expect(await queue.wait(id, { interval: 20 })).toEqual({ id, state: 'done', total: 0, sent: 0, gone: 0, failed: 0 });
  });

  it('ends a send as failed, saying why, when the store breaks the paging contract', async () => {
    await setup(4, 2);
    // A store that answers every page from the start, whatever `after` says.
    const broken: SubscriptionStore = { ...store, findSubscriptions: (query) => store.findSubscriptions({ ...query, after: undefined }) };
    const worker = await startSendWorker({ redis: redisUrl, store: broken, vapid, name, allowLoopbackEndpoints: true });
    workers.push(worker);
    const { id } = await queue.send({ v: 1, notification: { title: 'Broken store' } });
    const final = await queue.wait(id, { interval: 20 });
    expect(final).toMatchObject({ id, state: 'failed', error: expect.stringContaining('store-failed') });
    // The first batch went out before the second page showed the store's fault.
    expect(final.sent).toBe(2);
  });

  it("applies createPushServer's delivery policy: without allowLoopbackEndpoints the local push service is refused", async () => {
    const endpoints = await setup(3, 10);
    const worker = await startSendWorker({ redis: redisUrl, store, vapid, name, retries: 0 });
    workers.push(worker);
    const { id } = await queue.send({ v: 1, notification: { title: 'Not allowed' } });
    expect(await queue.wait(id, { interval: 20 })).toEqual({ id, state: 'done', total: 3, sent: 0, gone: 0, failed: 3 });
    for (const endpoint of endpoints) expect(await ids(endpoint)).toEqual([]);
    // Recorded for pruning, as send() does.
    for (const entry of await store.findSubscriptions()) expect(entry.failingSince).toBeGreaterThan(0);
    expect(() => createSendQueue({ redis: redisUrl, store, vapid, pushServices: ['not a host'] })).toThrow(
      expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'pushServices' }) }),
    );
  });

  it('sends declarative messages, made absolute against siteUrl when queued, with the same id in every copy', async () => {
    const endpoints = await setup(3, 2);
    await queue.close();
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize: 2, allowLoopbackEndpoints: true, siteUrl: 'https://site.example/' });
    await sender();
    const { id } = await queue.send({ v: 1, notification: { title: 'Declarative', url: '/news/1' } }, { declarative: true });
    expect(await queue.wait(id, { interval: 20 })).toMatchObject({ state: 'done', sent: 3 });
    for (const endpoint of endpoints) {
      const [text, ...more] = await pushService.received(endpoint);
      expect(more).toEqual([]);
      expect(JSON.parse(text!)).toMatchObject({ web_push: 8030, id, notification: { title: 'Declarative', navigate: 'https://site.example/news/1' } });
    }
    expect(() => createSendQueue({ redis: redisUrl, store, vapid, siteUrl: '/relative' })).toThrow(expect.objectContaining({ code: 'invalid-option' }));
  });

  it('checks the envelope and options when queuing, before anything is recorded', async () => {
    await setup(0, 10);
    await expect(queue.send({ v: 2 } as never)).rejects.toMatchObject({ code: 'invalid-envelope' });
    await expect(queue.send({ v: 1 }, { ttl: -1 })).rejects.toMatchObject({ code: 'invalid-option' });
    await expect(queue.status('never-queued')).rejects.toMatchObject({ code: 'queue-failed' });
    expect(() => createSendQueue({ redis: 'http://x', store, vapid })).toThrow(expect.objectContaining({ code: 'invalid-option' }));
    expect(() => createSendQueue({ redis: redisUrl, store, vapid, name: 'a:b' })).toThrow(expect.objectContaining({ code: 'invalid-option' }));
    expect(() => createSendQueue({ redis: redisUrl, store, vapid, batchSize: 0 })).toThrow(expect.objectContaining({ code: 'invalid-option' }));
    // BullMQ passed in (a runtime that loads nothing by name): checked at once, naming what it lacks.
    for (const bullmq of [null, {}, { Queue: 'x' }, 'bullmq'])
      expect(() => createSendQueue({ redis: redisUrl, store, vapid, bullmq: bullmq as never })).toThrow(
        expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'bullmq', reason: expect.stringContaining('no Queue') }) }),
      );
    await expect(startSendWorker({ redis: redisUrl, store, vapid, name, bullmq: { Queue } as never })).rejects.toMatchObject({ code: 'invalid-option', details: { option: 'bullmq' } });
  });

  it('queues with the BullMQ module it is given, as a runtime that loads nothing by name passes it', async () => {
    await setup(2, 5);
    const bullmq = await import('bullmq');
    const given = createSendQueue({ redis: redisUrl, store, vapid, name, bullmq, allowLoopbackEndpoints: true });
    try {
      const { id } = await given.send({ v: 1, notification: { title: 'Given BullMQ' } });
      await sender(1);
      expect(await given.wait(id, { interval: 20 })).toMatchObject({ state: 'done', sent: 2 });
    } finally {
      await given.close();
    }
  });

  it('lets a closing sender finish the batch in flight, then stop taking batches', async () => {
    const endpoints = await setup(60, 6);
    const worker = await sender(1);
    const { id } = await queue.send({ v: 1, notification: { title: 'Graceful' } });
    await until(async () => (await queue.status(id)).sent > 0);
    await worker.close();
    workers.splice(workers.indexOf(worker), 1);
    const status = await queue.status(id);
    // Whole batches only: the one in flight was finished, and nothing was half done.
    expect(status.sent % 6).toBe(0);
    expect(status.sent).toBeGreaterThan(0);
    expect(status.sent).toBeLessThan(60);
    // With no sender left, nothing moves: the rest waits in Redis for the next one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await queue.status(id)).toEqual(status);
    expect(status.state).toBe('running');
    await sender();
    expect(await queue.wait(id, { interval: 20 })).toMatchObject({ state: 'done', sent: 60, total: 60 });
    for (const endpoint of endpoints) expect(await ids(endpoint)).toEqual([id]);
  });
});

async function until(check: () => Promise<boolean>, timeout = 10_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Removes what a test left in Redis: BullMQ's keys and the ledger's. */
async function cleanRedis(name: string | undefined): Promise<void> {
  if (!name) return;
  const queue = new Queue(name, { connection: { url: redisUrl } });
  await queue.obliterate({ force: true });
  // BullMQ's own ioredis client.
  const client = (await queue.client) as unknown as { keys(pattern: string): Promise<string[]>; del(key: string): Promise<number> };
  for (const key of await client.keys(`tidings:${name}:*`)) await client.del(key);
  await queue.close();
}
