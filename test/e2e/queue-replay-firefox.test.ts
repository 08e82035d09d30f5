import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD } from '../../src/queue/createSendLedger.js';
import { createSendQueue, type SendQueue } from '../../src/queue/index.js';
import { sqliteStore, type SubscriptionStore } from '../../src/server/index.js';
import { freshName, redisUrl, serviceAnswers } from '../support/services.js';
import { launchFirefox } from './support/firefox.js';
import { eventually, startDemo, untilEvent, type Demo } from './support/demo.js';

// A batch delivered twice, for real: a `tidings sender` process pushes the message to
// real Firefox (local push service, WebSocket protocol), and is SIGKILLed at the one
// moment that makes its batch run again: after the push service took the push and before
// the sender recorded it in Redis (its Redis traffic passes through a proxy here that
// holds that command). A second sender then takes the batch and pushes the same message
// again. The worker must show it once: the second copy reaches it (a `failed` event with
// reason `replayed`) and nothing new appears.
// The ledger's record script goes by its SHA-1 (EVALSHA), or as text when Redis lacks it.
const recordMarks = [RECORD, createHash('sha1').update(RECORD).digest('hex')];
const bin = join(import.meta.dirname, '../../bin/tidings.js');
const up = await serviceAnswers('Redis', redisUrl);

describe.runIf(up)('a message sent through the queue, its batch delivered twice to real Firefox', () => {
  let demo: Demo;
  let dataDir: string;
  let profileDir: string;
  let browser: Browser;
  let page: Page;
  let store: SubscriptionStore;
  let queue: SendQueue;
  let proxy: RecordHoldingProxy;
  const name = freshName('tidings-replay');
  const senders: ChildProcess[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tidings-queue-demo-'));
    profileDir = mkdtempSync(join(tmpdir(), 'tidings-queue-firefox-'));
    demo = await startDemo(dataDir);
    browser = await launchFirefox({ ...demo.pushService.firefoxPrefs() }, profileDir);
    page = await browser.newPage();
    await page.goto(demo.url);
    await page.waitForSelector('body[data-ready="true"]');
    // The demo's SQLite file, opened a second time here and by the senders (WAL).
    store = sqliteStore(join(dataDir, 'tidings.db'));
    proxy = await startRecordHoldingProxy(redisUrl);
  });

  afterAll(async () => {
    for (const child of senders) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await queue?.close();
    await proxy?.close();
    await browser?.close();
    await store?.close();
    await demo?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
    const bull = new Queue(name, { connection: { url: redisUrl } });
    await bull.obliterate({ force: true });
    const redis = (await bull.client) as unknown as { keys(p: string): Promise<string[]>; del(k: string): Promise<number> };
    for (const key of await redis.keys(`tidings:${name}:*`)) await redis.del(key);
    await bull.close();
  });

  const startSender = async (redis: string): Promise<ChildProcess> => {
    const vapid = JSON.parse(readFileSync(join(dataDir, 'vapid.json'), 'utf8')) as { publicKey: string; privateKey: string; subject: string };
    const env = { ...process.env, VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: vapid.subject };
    const args = ['sender', '--redis', redis, '--store', join(dataDir, 'tidings.db'), '--queue', name, '--stall-timeout', '2000', '--allow-loopback'];
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    senders.push(child);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        if (out.includes('taking sends')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`sender exited ${code}: ${out}`)));
    });
    return child;
  };

  it('shows it once: the replay reaches the worker and is recognised by its id', async () => {
    const state = await page.evaluate(() => (window as unknown as { demoClient: { subscribe(): Promise<unknown> } }).demoClient.subscribe());
    expect(state).toMatchObject({ subscribed: true, synced: true });
    const [subscription] = await store.findSubscriptions();
    expect(subscription?.sealKey).toBeDefined();

    const first = await startSender(proxy.url);
    queue = createSendQueue({ redis: redisUrl, store, vapid: JSON.parse(readFileSync(join(dataDir, 'vapid.json'), 'utf8')), name, allowLoopbackEndpoints: true });
    const { id } = await queue.send({ v: 1, notification: { title: 'Delivered twice, shown once' } }, { to: subscription!.id, ttl: 600 });

    // The first sender pushed, Firefox showed it, and the sender dies before recording it.
    await proxy.held;
    await untilEvent(demo, id, 'shown');
    first.kill('SIGKILL');
    expect(await queue.status(id)).toMatchObject({ state: 'running', sent: 0 });

    // Another sender takes the stalled batch and pushes the same message again.
    const second = await startSender(redisUrl);
    expect(await queue.wait(id, { interval: 100 })).toEqual({ id, state: 'done', total: 1, sent: 1, gone: 0, failed: 0 });
    const replayed = await eventually(async () => {
      const events = await demo.store.listEvents({ messageId: id });
      return events.some((event) => event.type === 'failed' && event.reason === 'replayed') ? events : undefined;
    }, 'the replayed copy to reach the worker');
    expect(replayed.map((event) => event.type).sort()).toEqual(['delivered', 'failed', 'shown']);

    const titles = await page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => n.title));
    expect(titles.filter((title) => title === 'Delivered twice, shown once')).toHaveLength(1);
    expect(titles).toHaveLength(1);

    second.kill('SIGTERM');
    expect(await new Promise((resolve) => second.once('exit', resolve))).toBe(0);
  }, 90_000);
});

interface RecordHoldingProxy {
  url: string;
  /** Resolves once a sender's first outcome record was held back: it pushed and has not recorded. */
  held: Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy to Redis that forwards everything until a client sends the ledger's record
 * script, then forwards nothing more from that client: to the sender it is a Redis that
 * stopped answering at that exact point.
 */
async function startRecordHoldingProxy(target: string): Promise<RecordHoldingProxy> {
  const { hostname, port } = new URL(target);
  const sockets: Socket[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) || 6379 });
    sockets.push(client, upstream);
    let holding = false;
    client.on('data', (chunk) => {
      if (holding) return;
      if (recordMarks.some((mark) => chunk.includes(mark))) {
        holding = true;
        release();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    for (const socket of [client, upstream]) socket.on('error', () => {});
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
