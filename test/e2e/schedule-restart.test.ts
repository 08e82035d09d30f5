import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/postgres/index.js';
import { generateVapidKeys, type SubscriptionStore } from '../../src/server/index.js';
import { startPushService, type PushService } from '../../src/testing/index.js';
import { freshName, postgresUrl, redisUrl, serviceAnswers } from '../support/services.js';

// Scheduled sends across processes, for real: subscribers in PostgreSQL, the built package
// (npm run build) in child processes that are SIGKILLed, every push decrypted by the local
// push service. A send scheduled 5 s ahead survives the death of every process that knew
// of it and runs once: through push servers' schedulers (a lease in PostgreSQL), and
// through the queue (a BullMQ delayed job in Redis).
const SUBSCRIBERS = 300;
const up = (await serviceAnswers('PostgreSQL', postgresUrl)) && (await serviceAnswers('Redis', redisUrl));
const vapid = { ...generateVapidKeys(), subject: 'mailto:schedule@tidings.example' };
const script = join(import.meta.dirname, 'support/controlProcess.mjs');

describe.runIf(up)('a send scheduled 5 s ahead, every process restarted', () => {
  const schema = freshName('tidings_schedule');
  const queueName = freshName('tidings-schedule');
  let pushService: PushService;
  let store: SubscriptionStore;
  let endpoints: string[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    pushService = await startPushService();
    store = postgresStore({ connectionString: postgresUrl, schema });
    const subscriptions = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => pushService.subscribe(vapid.publicKey)));
    for (const subscription of subscriptions) await store.saveSubscription({ subscription });
    endpoints = subscriptions.map((subscription) => subscription.endpoint);
  }, 60_000);
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await store?.close();
    await pushService?.close();
    if (!up) return;
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    const bull = new Queue(queueName, { connection: { url: redisUrl } });
    await bull.obliterate({ force: true });
    const redis = (await bull.client) as unknown as { keys(p: string): Promise<string[]>; del(k: string): Promise<number> };
    for (const key of await redis.keys(`tidings:${queueName}:*`)) await redis.del(key);
    await bull.close();
  });

  /** Starts a control process; resolves with it (and what it printed) once it says 'ready'. */
  const start = (args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; out: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script, ...args], {
        env: { ...process.env, TIDINGS_TEST_VAPID: JSON.stringify(vapid), ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        if (out.includes('ready')) resolve({ child, out });
      });
      child.once('exit', (code, signal) => reject(new Error(`exited ${code ?? signal} before ready: ${out}`)));
    });
  const kill = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const until = async (check: () => Promise<boolean>, ms: number): Promise<void> => {
    for (const end = Date.now() + ms; !(await check()); ) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  /** Each endpoint's messages, decrypted: ids of every copy. */
  const copies = async (): Promise<string[][]> =>
    Promise.all(endpoints.map(async (endpoint) => (await pushService.received(endpoint)).map((text) => (JSON.parse(text) as { id: string }).id)));

  it('through push servers with schedulers: the process that scheduled it and the other are killed, two new ones run it once', async () => {
    const pg = [postgresUrl, schema];
    const at = Date.now() + 5000;
    const { child: first, out } = await start(['schedule', ...pg, 'plain-restart', String(at)]);
    expect(out).toContain(`scheduled plain-restart ${at}`);
    const { child: second } = await start(['scheduler', ...pg]);
    expect(await store.getSend('plain-restart')).toMatchObject({ state: 'scheduled', scheduledAt: at });
    // Every process that knew of the send dies before its time.
    await kill(first);
    await kill(second);
    await start(['scheduler', ...pg]);
    await start(['scheduler', ...pg]);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now() - 500)));
    expect((await copies()).flat()).toEqual([]);
    await until(async () => (await store.getSend('plain-restart'))?.state === 'done', 30_000);
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    // Once: every subscriber got exactly one copy, and the send log counts each once.
    expect((await copies()).map((ids) => ids.join())).toEqual(endpoints.map(() => 'plain-restart'));
    expect(await store.getSend('plain-restart')).toMatchObject({ targeted: SUBSCRIBERS, sent: SUBSCRIBERS, failed: 0 });
  }, 60_000);

  it('through push servers: the process running a send is killed mid-way, and another takes it over once its lease lapses', async () => {
    const pg = [postgresUrl, schema];
    const at = Date.now() + 1000;
    // 300 at 60 a second: five seconds of sending, time enough to die in the middle.
    const { child: runner } = await start(['schedule', ...pg, 'plain-takeover', String(at)], { TIDINGS_TEST_OPTIONS: JSON.stringify({ perSecond: 60 }) });
    await until(async () => (await copies()).some((ids) => ids.length > 0) || ((await store.getSend('plain-takeover'))?.sent ?? 0) > 0, 20_000);
    const heir = (await start(['scheduler', ...pg])).child;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await kill(runner);
    const killedAt = Date.now();
    await until(async () => (await store.getSend('plain-takeover'))?.state === 'done', 60_000);
    const received = await copies();
    // Everyone got it; those of the page in flight when it died may have it twice (the same id: a browser shows it once).
    expect(received.every((ids) => ids.length >= 1 && ids.every((id) => id === 'plain-takeover'))).toBe(true);
    const duplicates = received.reduce((n, ids) => n + ids.length - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(SUBSCRIBERS);
    expect(await store.getSend('plain-takeover')).toMatchObject({ state: 'done', targeted: SUBSCRIBERS, sent: SUBSCRIBERS, failed: 0 });
    console.log(`schedule takeover: ${duplicates} duplicates, done ${Date.now() - killedAt} ms after the kill (lease 2000 ms)`);
    await kill(heir);
  }, 90_000);

  it('through the queue: the producer and both senders are killed, the delayed job runs once in two new senders', async () => {
    const connection = [postgresUrl, schema, redisUrl, queueName];
    const at = Date.now() + 5000;
    const { child: producer, out } = await start(['queue-send', ...connection, 'queued-restart', String(at)]);
    expect(out).toContain(`scheduled queued-restart ${at}`);
    const senders = [(await start(['sender', ...connection])).child, (await start(['sender', ...connection])).child];
    for (const child of [producer, ...senders]) await kill(child);
    await start(['sender', ...connection]);
    await start(['sender', ...connection]);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now() - 500)));
    expect((await copies()).flat()).toEqual([]);
    await until(async () => (await store.getSend('queued-restart'))?.state === 'done', 30_000);
    expect((await copies()).map((ids) => ids.join())).toEqual(endpoints.map(() => 'queued-restart'));
    expect(await store.getSend('queued-restart')).toMatchObject({ via: 'queue', targeted: SUBSCRIBERS, sent: SUBSCRIBERS, failed: 0 });
  }, 60_000);
});
