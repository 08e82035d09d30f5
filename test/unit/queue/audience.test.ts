import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSendQueue, startSendWorker, type SendQueue, type SendWorker } from '../../../src/queue/index.js';
import { generateVapidKeys, memoryStore, type SendTarget, type SubscriptionStore } from '../../../src/server/index.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { freshName, redisUrl, serviceAnswers } from '../../support/services.js';

// The queue checks `to` with the same audience rules as send(): an audience meant for
// somebody is refused before anything is recorded, and the richer audiences survive the
// trip through Redis to the senders.
const up = await serviceAnswers('Redis', redisUrl);
const vapid = { ...generateVapidKeys(), subject: 'mailto:queue@tidings.example' };

describe.runIf(up)('createSendQueue audiences', () => {
  let pushService: PushService;
  let store: SubscriptionStore;
  let name: string;
  let queue: SendQueue;
  let worker: SendWorker | undefined;
  const endpoints = new Map<string, string>();

  beforeAll(async () => {
    pushService = await startPushService();
    name = freshName('tidings-audience');
    store = memoryStore();
    const people = { alice: { team: 'red', sports: true }, bob: { team: 'blue' }, carol: { team: 'red', promos: false }, dave: {} };
    for (const [person, attributes] of Object.entries(people)) {
      const subscription = await pushService.subscribe(vapid.publicKey);
      endpoints.set(person, subscription.endpoint);
      await store.saveSubscription({ subscription, attributes });
    }
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize: 2, allowLoopbackEndpoints: true });
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
  });
  afterAll(async () => {
    await queue.close();
    const bull = new Queue(name, { connection: { url: redisUrl } });
    await bull.obliterate({ force: true });
    const client = (await bull.client) as unknown as { keys(pattern: string): Promise<string[]>; del(key: string): Promise<number> };
    for (const key of await client.keys(`tidings:${name}:*`)) await client.del(key);
    await bull.close();
    await pushService.close();
  });

  const reached = async (id: string) => {
    const names: string[] = [];
    for (const [person, endpoint] of endpoints) {
      if ((await pushService.received(endpoint)).some((text) => (JSON.parse(text) as { id: string }).id === id)) names.push(person);
    }
    return names.sort();
  };

  it.each([
    ["a '__proto__' key from JSON.parse", () => ({ attributes: JSON.parse('{"__proto__": "x"}') })],
    ['inherited attributes', () => ({ attributes: Object.create({ team: 'red' }) })],
    ['empty attributes', () => ({ attributes: {} })],
  ])('refuses %s before recording anything', async (_what, to) => {
    await expect(queue.send({ v: 1, id: 'never', notification: { title: 'x' } }, { to: to() as SendTarget })).rejects.toMatchObject({
      code: 'invalid-option',
      details: { option: expect.stringMatching(/^to/) },
    });
    await expect(queue.status('never')).rejects.toMatchObject({ code: 'queue-failed' });
    const bull = new Queue(name, { connection: { url: redisUrl } });
    expect(Object.values(await bull.getJobCounts()).reduce((a, b) => a + b, 0)).toBe(0);
    await bull.close();
  });

  it('sends an any-of, but-not audience through Redis and the sender to exactly its subscribers', async () => {
    const to: SendTarget = { attributes: { team: ['red', 'blue'] }, not: { attributes: { promos: false } } };
    const { id } = await queue.send({ v: 1, id: 'queued-audience', notification: { title: 'Teams' } }, { to });
    worker = await startSendWorker({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true, retries: 0 });
    expect(await queue.wait(id, { interval: 20 })).toMatchObject({ state: 'done', total: 2, sent: 2, failed: 0 });
    expect(await reached(id)).toEqual(['alice', 'bob']);
  });
});
