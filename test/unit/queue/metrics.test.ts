import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresStore } from '../../../src/postgres/index.js';
import { createSendQueue, startSendWorker, type SendQueue } from '../../../src/queue/index.js';
import { generateVapidKeys, memoryStore, type SubscriptionStore } from '../../../src/server/index.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { makeCliScratch, type CliScratch } from '../../support/cliScratch.js';
import { parseMetrics } from '../../support/metricsText.js';
import { freshName, postgresUrl, redisUrl, serviceAnswers } from '../../support/services.js';

// The queue's metrics with real Redis and BullMQ: its depth read at the scrape, with no
// sender running; and a real `tidings sender --metrics-port` process (the CLI from its
// transpiled sources, test/support/cliScratch.ts) serving what it sent.
const redisUp = await serviceAnswers('Redis', redisUrl);
const bothUp = redisUp && (await serviceAnswers('PostgreSQL', postgresUrl));
const vapid = { ...generateVapidKeys(), subject: 'mailto:metrics@tidings.example' };
const LOCAL = '127.0.0.0/24';

let pushService: PushService;
beforeAll(async () => {
  pushService = await startPushService();
});
afterAll(() => pushService.close());

describe.runIf(redisUp)("a queue's metrics", () => {
  let name: string;
  let queue: SendQueue | undefined;
  afterEach(async () => {
    await queue?.close();
    await cleanRedis(name);
  });

  it('show the batches waiting and delayed, and how long the oldest has waited, with no sender running', async () => {
    name = freshName('tidings-metrics');
    const store = memoryStore();
    for (let i = 0; i < 3; i++) await store.saveSubscription({ subscription: await pushService.subscribe(vapid.publicKey) });
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true, metrics: true });
    const depth = async () => parseMetrics(await queue!.metrics!.metrics());

    // Before anything is queued: the queue is there, empty.
    const empty = await depth();
    for (const state of ['waiting', 'delayed', 'active', 'failed']) expect(empty.value('tidings_queue_jobs', { queue: name, state })).toBe(0);
    expect(empty.value('tidings_queue_oldest_waiting_seconds', { queue: name })).toBe(0);

    const queuedAt = Date.now();
    await queue.send({ v: 1, notification: { title: 'Now' } });
    await queue.send({ v: 1, notification: { title: 'Later' } }, { at: Date.now() + 3_600_000 });
    await queue.send({ v: 1, notification: { title: 'Now too' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const metrics = await depth();
    expect(metrics.value('tidings_queue_jobs', { queue: name, state: 'waiting' })).toBe(2);
    expect(metrics.value('tidings_queue_jobs', { queue: name, state: 'delayed' })).toBe(1);
    expect(metrics.value('tidings_queue_jobs', { queue: name, state: 'active' })).toBe(0);
    expect(metrics.value('tidings_queue_jobs', { queue: name, state: 'failed' })).toBe(0);
    // The oldest waiting batch is the first send's: waiting since it was queued, no less.
    const oldest = metrics.value('tidings_queue_oldest_waiting_seconds', { queue: name })!;
    expect(oldest).toBeGreaterThanOrEqual(0.3);
    expect(oldest).toBeLessThanOrEqual((Date.now() - queuedAt) / 1000);
    expect(metrics.value('tidings_sends_created_total', { state: 'queued' })).toBe(2);
    expect(metrics.value('tidings_sends_created_total', { state: 'scheduled' })).toBe(1);
  });

  it("a sender in the same process shares the registry: the queue's depth once, and the sender's pushes", async () => {
    name = freshName('tidings-metrics');
    const store = memoryStore();
    const endpoints: string[] = [];
    for (let i = 0; i < 4; i++) {
      const subscription = await pushService.subscribe(vapid.publicKey);
      endpoints.push(subscription.endpoint);
      await store.saveSubscription({ subscription });
    }
    pushService.expire(endpoints[0]!);
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize: 2, allowLoopbackEndpoints: true, metrics: registry });
    const worker = await startSendWorker({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true, retries: 0, metrics: registry });
    try {
      expect(worker.metrics).toBe(registry);
      const { id } = await queue.send({ v: 1, notification: { title: 'Shared' } });
      expect(await queue.wait(id, { interval: 20 })).toMatchObject({ state: 'done', sent: 3, gone: 1 });
      // Redis says done when the last batch completes; the sender counts the finish once it has written the send log after.
      await vi.waitFor(async () => expect(parseMetrics(await registry.metrics()).value('tidings_sends_finished_total', { state: 'done' })).toBe(1));
      const metrics = parseMetrics(await registry.metrics());
      expect(metrics.value('tidings_pushes_total', { push_service: LOCAL, outcome: 'sent' })).toBe(3);
      expect(metrics.value('tidings_pushes_total', { push_service: LOCAL, outcome: 'gone' })).toBe(1);
      expect(metrics.value('tidings_sends_created_total', { state: 'queued' })).toBe(1);
      expect(metrics.value('tidings_sends_finished_total', { state: 'done' })).toBe(1);
      // One queue, read once though two sources name it.
      expect(metrics.all('tidings_queue_jobs').filter((sample) => sample.labels.state === 'waiting')).toEqual([{ name: 'tidings_queue_jobs', labels: { queue: name, state: 'waiting' }, value: 0 }]);
    } finally {
      await worker.close();
    }
  });
});

describe.runIf(bothUp)('tidings sender --metrics-port', () => {
  let cli: CliScratch;
  let child: ChildProcess | undefined;
  let store: SubscriptionStore;
  let queue: SendQueue;
  const schema = freshName('tidings_metrics');
  const name = freshName('tidings-metrics');
  beforeAll(() => {
    cli = makeCliScratch();
    store = postgresStore({ connectionString: postgresUrl, schema });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await queue?.close();
    await store.close();
    cli.remove();
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    await cleanRedis(name);
  });

  it('serves the text format on loopback: what this sender sent, and its queue', async () => {
    for (let i = 0; i < 5; i++) await store.saveSubscription({ subscription: await pushService.subscribe(vapid.publicKey) });
    const env = { PATH: process.env.PATH ?? '', VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: vapid.subject };
    const args = ['sender', '--redis', redisUrl, '--store', postgresUrl, '--schema', schema, '--queue', name, '--allow-loopback', '--metrics-port', '0'];
    child = spawn(process.execPath, [cli.bin, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        const found = /metrics at (\S+)/.exec(out);
        if (found) resolve(found[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`sender exited ${code}: ${out}`)));
    });
    expect(new URL(url)).toMatchObject({ hostname: '127.0.0.1', pathname: '/metrics' });

    queue = createSendQueue({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true });
    const { id } = await queue.send({ v: 1, notification: { title: 'Scraped' } });
    expect(await queue.wait(id, { interval: 20 })).toMatchObject({ state: 'done', sent: 5 });

    // Redis says done when the last batch completes; the sender counts the finish once it has written the send log after.
    await vi.waitFor(async () => expect(parseMetrics(await (await fetch(url)).text()).value('tidings_sends_finished_total', { state: 'done' })).toBe(1));
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const metrics = parseMetrics(await response.text());
    expect(metrics.value('tidings_pushes_total', { push_service: LOCAL, outcome: 'sent' })).toBe(5);
    expect(metrics.value('tidings_push_request_duration_seconds_count', { push_service: LOCAL, protocol: 'http/1.1' })).toBe(5);
    expect(metrics.value('tidings_sends_finished_total', { state: 'done' })).toBe(1);
    expect(metrics.value('tidings_queue_jobs', { queue: name, state: 'waiting' })).toBe(0);
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);

    // Another sender asked for the same port: refused with exit 2, after letting go of the queue.
    const port = new URL(url).port;
    const second = spawnSync(process.execPath, [cli.bin, ...args.slice(0, -1), port], { env, encoding: 'utf8', timeout: 30_000 });
    expect(second).toMatchObject({ status: 2, stderr: expect.stringContaining(`--metrics-port ${port}: cannot listen on 127.0.0.1`) });

    // SIGTERM: the sender stops its metrics with it and exits cleanly.
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  }, 60_000);
});

async function cleanRedis(name: string | undefined): Promise<void> {
  if (!name) return;
  const queue = new Queue(name, { connection: { url: redisUrl } });
  await queue.obliterate({ force: true });
  const client = (await queue.client) as unknown as { keys(pattern: string): Promise<string[]>; del(key: string): Promise<number> };
  for (const key of await client.keys(`tidings:${name}:*`)) await client.del(key);
  await queue.close();
}
