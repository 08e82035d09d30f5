import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { batchJobId } from '../../../src/queue/queueSetup.js';
import { createSendQueue, startSendWorker, type SendQueue, type SendWorker } from '../../../src/queue/index.js';
import { generateVapidKeys, memoryStore, type SubscriptionStore } from '../../../src/server/index.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { freshName, redisUrl, serviceAnswers } from '../../support/services.js';

// What Redis holds is data another process wrote: message ids a site chose (with ':' in
// them), jobs and records of an older or newer tidings, a bug, a hand in redis-cli. None
// of it may spell another send's keys or turn into a push storm. Real Redis, real BullMQ,
// pushes counted at the local push service.
const up = await serviceAnswers('Redis', redisUrl);
const vapid = { ...generateVapidKeys(), subject: 'mailto:queue@tidings.example' };

interface Redis {
  keys(pattern: string): Promise<string[]>;
  del(...keys: string[]): Promise<number>;
  hget(key: string, field: string): Promise<string | null>;
  hset(key: string, ...pairs: string[]): Promise<number>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  rename(from: string, to: string): Promise<string>;
  ttl(key: string): Promise<number>;
}

describe.runIf(up)('the queue under hostile ids, jobs and records', () => {
  let pushService: PushService;
  let store: SubscriptionStore;
  let name: string;
  let queue: SendQueue;
  let bull: Queue;
  let redis: Redis;
  let endpoints: string[];
  const workers: SendWorker[] = [];

  beforeAll(async () => {
    pushService = await startPushService();
  });
  afterAll(() => pushService.close());
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    await queue?.close();
    await bull.obliterate({ force: true });
    for (const key of await redis.keys(`tidings:${name}:*`)) await redis.del(key);
    await bull.close();
  });

  const setup = async (subscribers: number, batchSize = 10) => {
    name = freshName('tidings-hostile');
    store = memoryStore();
    endpoints = [];
    for (let i = 0; i < subscribers; i++) {
      const subscription = await pushService.subscribe(vapid.publicKey);
      endpoints.push(subscription.endpoint);
      await store.saveSubscription({ subscription, attributes: { team: i % 2 ? 'odd' : 'even' } });
    }
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize, allowLoopbackEndpoints: true });
    bull = new Queue(name, { connection: { url: redisUrl } });
    redis = (await bull.client) as unknown as Redis;
  };
  const sender = async () => {
    const worker = await startSendWorker({ redis: redisUrl, store, vapid, name, concurrency: 4, allowLoopbackEndpoints: true, retries: 0, timeout: 2000 });
    workers.push(worker);
  };
  /** Every push the local push service took since the last call, by message id. */
  const pushes = async () => {
    const byId = new Map<string, number>();
    for (const endpoint of endpoints) {
      for (const text of await pushService.received(endpoint)) {
        const { id } = JSON.parse(text) as { id: string };
        byId.set(id, (byId.get(id) ?? 0) + 1);
      }
    }
    return byId;
  };
  const envelope = (id: string) => ({ v: 1 as const, id, notification: { title: id } });
  /** The status once a sender has failed the send: until then a send with no record has none. */
  const failedStatus = async (id: string) => {
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 20))) {
      const status = await queue.status(id).catch(() => undefined);
      if (status?.state === 'failed') return status;
    }
    throw new Error(`${id} did not fail`);
  };

  describe('message ids cannot spell another send’s keys', () => {
    it('order-7:batch:0 then order-7: both reach everyone', async () => {
      await setup(10);
      await queue.send(envelope('order-7:batch:0'));
      await queue.send(envelope('order-7'));
      await sender();
      expect(await queue.wait('order-7:batch:0', { interval: 20 })).toMatchObject({ state: 'done', total: 10, sent: 10 });
      expect(await queue.wait('order-7', { interval: 20 })).toMatchObject({ state: 'done', total: 10, sent: 10 });
      expect(Object.fromEntries(await pushes())).toEqual({ 'order-7:batch:0': 10, 'order-7': 10 });
    });

    it('order-8:done then order-8: both finish', async () => {
      await setup(10, 3);
      await queue.send(envelope('order-8:done'));
      await queue.send(envelope('order-8'));
      await sender();
      expect(await queue.wait('order-8:done', { interval: 20 })).toMatchObject({ state: 'done', sent: 10 });
      expect(await queue.wait('order-8', { interval: 20 })).toMatchObject({ state: 'done', sent: 10 });
      expect(Object.fromEntries(await pushes())).toEqual({ 'order-8:done': 10, 'order-8': 10 });
    });

    it("a:b, a%3Ab and a: escaping keeps every id apart, '%' included", async () => {
      await setup(4);
      for (const id of ['a:b', 'a%3Ab', 'a', 'a:outcomes']) await queue.send(envelope(id));
      await sender();
      for (const id of ['a:b', 'a%3Ab', 'a', 'a:outcomes']) expect(await queue.wait(id, { interval: 20 })).toMatchObject({ state: 'done', sent: 4 });
      expect(Object.fromEntries(await pushes())).toEqual({ 'a:b': 4, 'a%3Ab': 4, a: 4, 'a:outcomes': 4 });
    });

    it("status('x:done') of a finished send x is a TidingsError, never a raw ReplyError", async () => {
      await setup(2);
      await sender();
      await queue.send(envelope('x'));
      await queue.wait('x', { interval: 20 });
      for (const id of ['x:done', 'x:outcomes', 'x:batch:0']) {
        await expect(queue.status(id)).rejects.toMatchObject({ name: 'TidingsError', code: 'queue-failed', message: expect.stringContaining('no send with id') });
      }
    });
  });

  describe('sends queued by tidings 0.1.0, still in Redis during an upgrade', () => {
    it('reads a record without a shape version under a plain id, and sends it', async () => {
      await setup(5);
      await queue.send(envelope('old-plain'));
      const key = `tidings:${name}:send:old-plain`;
      const record = JSON.parse((await redis.hget(key, 'record'))!) as Record<string, unknown>;
      delete record.v;
      await redis.hset(key, 'record', JSON.stringify(record));
      await redis.hdel(key, 'counted');
      await sender();
      expect(await queue.wait('old-plain', { interval: 20 })).toMatchObject({ state: 'done', total: 5, sent: 5 });
      expect(Object.fromEntries(await pushes())).toEqual({ 'old-plain': 5 });
    });

    it("refuses one whose id has ':' (its keys may be another send's): failed, saying why, nothing pushed", async () => {
      await setup(5);
      await queue.send(envelope('old:colon'));
      // Where 0.1.0 kept it: under the id as it is.
      await redis.rename(`tidings:${name}:send:old%3Acolon`, `tidings:${name}:send:old:colon`);
      await sender();
      const final = await failedStatus('old:colon');
      expect(final).toMatchObject({ state: 'failed', error: expect.stringContaining('tidings 0.1.0') });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await pushes()).size).toBe(0);
    });

    it('refuses a record of a shape it does not know', async () => {
      await setup(3);
      await queue.send(envelope('from-the-future'));
      const key = `tidings:${name}:send:from-the-future`;
      const record = JSON.parse((await redis.hget(key, 'record'))!) as Record<string, unknown>;
      await redis.hset(key, 'record', JSON.stringify({ ...record, v: 99 }));
      await sender();
      expect(await queue.wait('from-the-future', { interval: 20 })).toMatchObject({ state: 'failed', error: expect.stringContaining('shape 99') });
      expect((await pushes()).size).toBe(0);
    });
  });

  describe('malformed jobs are refused before anything is pushed', () => {
    /** Queues a real send with no sender running, then swaps its first job for `job`. */
    const inject = async (id: string, job: Record<string, unknown>) => {
      await queue.send(envelope(id));
      await (await bull.getJob(batchJobId(id, 0)))!.remove();
      await bull.add('batch', job as never, { jobId: `forged-${Math.random().toString(36).slice(2)}`, attempts: 8, backoff: { type: 'fixed', delay: 10 } });
    };

    it.each([
      ['k "0"', { k: '0' }, 'not a whole number'],
      ['k -1', { k: -1 }, 'not a whole number'],
      ['k 1e308', { k: 1e308 }, 'not a whole number'],
      ['k 0.5', { k: 0.5 }, 'not a whole number'],
      ['after 5 in batch 1', { k: 1, after: 5 }, 'no cursor'],
      ['after 5 in batch 0', { k: 0, after: 5 }, 'has a cursor'],
      ['a cursor nobody planned', { k: 3, after: 'zzzz' }, 'does not follow'],
    ])('%s: the send fails, saying why, and nothing is pushed', async (_name, fields, reason) => {
      await setup(10, 5);
      await inject('forged', { id: 'forged', ...fields });
      await sender();
      const final = await queue.wait('forged', { interval: 20 });
      expect(final).toMatchObject({ state: 'failed', error: expect.stringContaining(reason) });
      // Long enough for a storm to show, had one started.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await pushes()).size).toBe(0);
      expect(await redis.keys(`tidings:${name}:send:forged:batch:*`)).toEqual([]);
    });

    it('a send failed mid-way leaves no key in Redis for ever: its batches, outcomes and members all expire', async () => {
      await setup(10, 5);
      await queue.send(envelope('half'));
      // Behind batch 0 (first in line, one batch at a time) and before the batch 1 it plans.
      await bull.add('batch', { id: 'half', k: 1, after: 'zzzz' } as never, { jobId: 'forged-half' });
      await sender();
      expect(await failedStatus('half')).toMatchObject({ state: 'failed', sent: 5, error: expect.stringContaining('does not follow') });
      // The real batch 1 still runs after the failure; give it time to plan and end.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const left = await redis.keys(`tidings:${name}:send:half*`);
      expect(left).toEqual(expect.arrayContaining([`tidings:${name}:send:half`, `tidings:${name}:send:half:outcomes`, `tidings:${name}:send:half:batch:0`]));
      const ttls = Object.fromEntries(await Promise.all(left.map(async (key) => [key, await redis.ttl(key)] as const)));
      for (const [key, ttl] of Object.entries(ttls)) expect({ key, expires: ttl > 0 }).toEqual({ key, expires: true });
      // A later ending cannot rewrite it: cancelled now, it stays failed.
      expect(await queue.cancel('half')).toMatchObject({ state: 'failed' });
    });

    it('a job for a send with no record: failed, saying why', async () => {
      await setup(3);
      await bull.add('batch', { id: 'ghost', k: 0 }, { jobId: 'ghost-job' });
      await sender();
      expect(await failedStatus('ghost')).toMatchObject({ state: 'failed', error: expect.stringContaining('no send with id ghost') });
      expect((await pushes()).size).toBe(0);
    });

    it('a job with no message id is failed by BullMQ and touches no send', async () => {
      await setup(3);
      await queue.send(envelope('innocent'));
      await bull.add('batch', { k: 0 } as never, { jobId: 'no-id' });
      await sender();
      expect(await queue.wait('innocent', { interval: 20 })).toMatchObject({ state: 'done', sent: 3 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const job = await bull.getJob('no-id');
      expect(await job!.getState()).toBe('failed');
      expect(job!.failedReason).toContain('no message id');
    });

    it.each([0, -5, 2.5, '10', 1e9, null])('a record with batchSize %j: failed, saying why, no batch planned, nothing pushed', async (batchSize) => {
      await setup(10);
      await queue.send(envelope('bad-size'));
      const key = `tidings:${name}:send:bad-size`;
      const record = JSON.parse((await redis.hget(key, 'record'))!) as Record<string, unknown>;
      delete record.v;
      await redis.hset(key, 'record', JSON.stringify({ ...record, batchSize }));
      await sender();
      expect(await queue.wait('bad-size', { interval: 20 })).toMatchObject({ state: 'failed', error: expect.stringContaining('batchSize') });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await pushes()).size).toBe(0);
      expect(await redis.keys(`tidings:${name}:send:bad-size:batch:*`)).toEqual([]);
    });

    it('a record that is not JSON, or holds another message: failed, saying why', async () => {
      await setup(2);
      await queue.send(envelope('garbled'));
      await redis.hset(`tidings:${name}:send:garbled`, 'record', '{not json');
      await queue.send(envelope('swapped'));
      const other = JSON.parse((await redis.hget(`tidings:${name}:send:swapped`, 'record'))!);
      other.message.envelope.id = 'someone-else';
      await redis.hset(`tidings:${name}:send:swapped`, 'record', JSON.stringify(other));
      await sender();
      expect(await queue.wait('garbled', { interval: 20 })).toMatchObject({ state: 'failed', error: expect.stringContaining('not an object') });
      expect(await queue.wait('swapped', { interval: 20 })).toMatchObject({ state: 'failed', error: expect.stringContaining('no message with this id') });
      expect((await pushes()).size).toBe(0);
    });
  });
});
