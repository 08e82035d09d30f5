import { spawn, type ChildProcess } from 'node:child_process';
import { createECDH } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSendQueue, startSendWorker, type SendQueue, type SendWorker } from '../../../src/queue/index.js';
import { generateVapidKeys, memoryStore, sqliteStore, type SubscriptionStore } from '../../../src/server/index.js';
import { toBase64Url } from '../../../src/shared/base64url.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { makeCliScratch, type CliScratch } from '../../support/cliScratch.js';
import { freshName, redisUrl, serviceAnswers } from '../../support/services.js';

// Progress a person can read: the total from the moment a send is queued, and a word when
// a batch waits for a sender that was lost. Real Redis and BullMQ; the lost sender is a
// real process, SIGKILLed mid-batch.
const up = await serviceAnswers('Redis', redisUrl);
const vapid = { ...generateVapidKeys(), subject: 'mailto:queue@tidings.example' };

async function cleanRedis(name: string): Promise<void> {
  const bull = new Queue(name, { connection: { url: redisUrl } });
  await bull.obliterate({ force: true });
  const client = (await bull.client) as unknown as { keys(pattern: string): Promise<string[]>; del(key: string): Promise<number> };
  for (const key of await client.keys(`tidings:${name}:*`)) await client.del(key);
  await bull.close();
}

describe.runIf(up)('a queued send knows its total from the start', () => {
  let pushService: PushService;
  let name: string;
  let queue: SendQueue | undefined;
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
  const fill = async (store: SubscriptionStore, count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { id } = await store.saveSubscription({ subscription: await pushService.subscribe(vapid.publicKey), attributes: { team: i % 4 ? 'blue' : 'red' } });
      ids.push(id);
    }
    return ids;
  };

  it('has status.total as soon as send() resolves, before any sender reads a batch', async () => {
    name = freshName('tidings-total');
    const store = memoryStore();
    await fill(store, 40);
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize: 7, allowLoopbackEndpoints: true });
    const all = await queue.send({ v: 1, notification: { title: 'All' } });
    const red = await queue.send({ v: 1, notification: { title: 'Red' } }, { to: { attributes: { team: 'red' } } });
    expect(await queue.status(all.id)).toEqual({ id: all.id, state: 'queued', total: 40, sent: 0, gone: 0, failed: 0 });
    expect(await queue.status(red.id)).toMatchObject({ state: 'queued', total: 10 });
    workers.push(await startSendWorker({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true }));
    const totals = new Set<number | undefined>();
    const final = await queue.wait(all.id, { interval: 10, onProgress: (status) => totals.add(status.total) });
    expect([...totals]).toEqual([40]);
    expect(final).toEqual({ id: all.id, state: 'done', total: 40, sent: 40, gone: 0, failed: 0 });
  });

  it('ends with the exact audience the batches fixed when subscribers come and go meanwhile', async () => {
    name = freshName('tidings-total');
    const store = memoryStore();
    const ids = await fill(store, 20);
    queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize: 5, allowLoopbackEndpoints: true });
    const { id } = await queue.send({ v: 1, notification: { title: 'Moving' } });
    expect((await queue.status(id)).total).toBe(20);
    // Before any batch is read: three leave, five arrive.
    for (const gone of ids.slice(0, 3)) await store.deleteSubscription(gone);
    await fill(store, 5);
    workers.push(await startSendWorker({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true }));
    const final = await queue.wait(id, { interval: 10 });
    expect(final).toEqual({ id, state: 'done', total: 22, sent: 22, gone: 0, failed: 0 });
  });
});

describe.runIf(up)('a sender lost mid-batch', () => {
  let cli: CliScratch;
  let sink: Server;
  let sinkUrl: string;
  let pushes = 0;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    cli = makeCliScratch();
    // A push service that takes its time, so a batch is still running when its sender dies.
    sink = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          pushes++;
          res.writeHead(201).end();
        }, 100),
      );
    });
    await new Promise<void>((done) => sink.listen(0, '127.0.0.1', done));
    sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
    writeFileSync(
      join(cli.dir, 'dist/sender.mjs'),
      `import { startSendWorker } from '../out/src/queue/index.js';
import { sqliteStore } from '../out/src/server/index.js';
const [redis, file, name, vapid] = process.argv.slice(2);
// A lock that lapses a second after the sender dies. (Its stall checks stop with it; a
// longer stalledInterval here would also hold off the other senders' checks that long.)
await startSendWorker({ redis, store: sqliteStore(file), vapid: JSON.parse(vapid), name, concurrency: 1, lockDuration: 1000, allowLoopbackEndpoints: true });
console.log('taking sends');
`,
    );
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await new Promise((done) => sink.close(done));
    cli.remove();
  });

  it('is named in the progress line while its batch waits, and another sender takes the batch within the stall timeout', async () => {
    const name = freshName('tidings-lost');
    const file = join(cli.dir, `${name}.db`);
    const store = sqliteStore(file);
    for (let n = 0; n < 30; n++) {
      const keys = { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(crypto.getRandomValues(new Uint8Array(16))) };
      await store.saveSubscription({ subscription: { endpoint: `${sinkUrl}/push/${n}`, expirationTime: null, keys } });
    }
    const env = { PATH: process.env.PATH ?? '', VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: vapid.subject };
    const lost = spawn(process.execPath, [join(cli.dir, 'dist/sender.mjs'), redisUrl, file, name, JSON.stringify(vapid)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(lost);
    await new Promise<void>((resolve, reject) => {
      lost.stdout!.on('data', (chunk: Buffer) => String(chunk).includes('taking sends') && resolve());
      lost.once('exit', (code) => reject(new Error(`sender exited ${code}`)));
    });
    // The CLI queues the send and draws its progress (plain lines: not a terminal).
    const send = spawn(process.execPath, [cli.bin, 'send', '--redis', redisUrl, '--store', file, '--queue', name, '--title', 'Lost', '--batch-size', '30', '--allow-loopback'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(send);
    let stdout = '';
    let stderr = '';
    send.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
    send.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => send.once('exit', resolve));
    const until = async (check: () => boolean, ms: number) => {
      for (const end = Date.now() + ms; !check(); await new Promise((resolve) => setTimeout(resolve, 20))) if (Date.now() > end) throw new Error(`timed out: ${stdout}`);
    };
    await until(() => pushes >= 3, 10_000);
    lost.kill('SIGKILL');
    await until(() => /waiting for a lost sender's batch/.test(stdout), 10_000);
    const atKill = pushes;
    // Nobody sends while the batch waits.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pushes).toBeLessThanOrEqual(atKill + 1);

    const started = Date.now();
    const survivor = await startSendWorker({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true });
    try {
      expect(await exited).toBe(0);
      const recovered = Date.now() - started;
      // Defaults: a new sender's first stall check marks the batch, the next (2 s later) hands it out.
      expect(recovered).toBeLessThan(10_000);
      const lines = stdout.trim().split('\n');
      const id = /^message (\S+): sent 30, gone 0, failed 0$/.exec(lines.at(-1)!)?.[1];
      expect(id, stdout).toBeDefined();
      expect(lines.at(-2)).toBe(`progress ${id}: 100% 30 of 30 (sent 30, gone 0, failed 0) done`);
      // The total from the first line, a rate and the time left while it ran.
      expect(lines[0]).toMatch(new RegExp(`^progress ${id}: 0% 0 of 30 \\(sent 0, gone 0, failed 0\\) (queued|running)$`));
      expect(stdout).toMatch(/progress \S+: \d+% \d+ of 30 \(sent \d+, gone 0, failed 0\) running, \d+\/s, \d+ s left/);
      expect(stdout).toMatch(/running, \d+\/s(, \d+ s left)?, waiting for a lost sender's batch\n/);
      expect(stderr).toBe('');
      console.log(`lost sender: the send done ${recovered} ms after a new sender started (its stall check every 2 s)`);
    } finally {
      await survivor.close();
      await store.close();
      await cleanRedis(name);
      rmSync(file, { force: true });
    }
  }, 60_000);
});
