import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendLedger, type LedgerClient } from '../../../src/queue/createSendLedger.js';
import { createSendQueue } from '../../../src/queue/index.js';
import { generateVapidKeys, sqliteStore, type SubscriptionStore } from '../../../src/server/index.js';
import { makeCliScratch, type CliScratch } from '../../support/cliScratch.js';
import { event, sendRecord, subscriptionAt } from '../../support/insightSuite.js';
import { freshName, redisUrl, serviceAnswers } from '../../support/services.js';

// `tidings stats` from a scratch copy of the CLI (test/support/cliScratch.ts), against a
// SQLite store filled here: the send log as a table, one message's funnel, --json, and
// hostile text printed without a control character.
let cli: CliScratch;
let file: string;
let store: SubscriptionStore;
const ESC = '\u001b';
const hostileTitle = `Sale${ESC}]0;pwned\u0007${ESC}[2J\u009b31m\u202eevil`;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli.bin, ...args], { env: { PATH: process.env.PATH ?? '' }, cwd: cli.dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  cli = makeCliScratch();
  file = join(cli.dir, 'stats.db');
  store = sqliteStore(file);
  const a = await store.saveSubscription(subscriptionAt(1), () => ({ attributes: {}, browser: 'firefox' }));
  const b = await store.saveSubscription(subscriptionAt(2, 'updates.push.services.mozilla.com'), () => ({ attributes: {}, browser: 'firefox' }));
  const now = Date.now();
  await store.createSend(sendRecord('older', { createdAt: now - 60_000, title: 'Older one', state: 'done' }));
  await store.createSend(sendRecord('m1', { createdAt: now, title: hostileTitle, by: `ann${ESC}[31m`, state: 'running', startedAt: now }));
  await store.updateSend('m1', {
    state: 'done',
    finishedAt: now + 1000,
    counts: { targeted: 3, sent: 2, failed: 1 },
    services: { fcm: { sent: 1, failed: 1 }, mozilla: { sent: 1 } },
    failures: [{ cause: 'http-5xx', host: 'fcm.googleapis.com', count: 1, sample: `busy${ESC}[1mnow\u0085` }],
  });
  for (const id of [a.id, b.id]) await store.recordEvents({ subscriptionId: id, countSince: 0, events: [event('delivered', 'm1'), event('shown', 'm1')] });
  await store.recordEvents({ subscriptionId: a.id, countSince: 0, events: [event('clicked', 'm1')] });
  await store.recordEvents({ countSince: 0, events: [event('clicked', 'm1')] });
});
afterAll(async () => {
  await store.close();
  cli.remove();
});

/** No byte a terminal acts on: C0 (but newline), DEL, C1, bidi and zero-width marks. */
const controls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/;

describe('tidings stats', () => {
  it('prints the last sends with their funnels, newest first, hostile titles made harmless', async () => {
    const { code, stdout, stderr } = await run(['stats', '--store', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CREATED \(UTC\)\s+ID\s+STATE\s+TARGETED\s+SENT\s+FAILED\s+DELIVERED\s+SHOWN\s+CLICKED\s+CTR\s+TITLE$/);
    expect(lines[1]).toMatch(/\bm1\s+done\s+3\s+2\s+1\s+2\s+2\s+1\s+50\.0%\s+Sale /);
    expect(lines[2]).toMatch(/\bolder\s+done\b.*Older one$/);
    expect(stdout).not.toMatch(controls);
  });

  it('prints one message: funnel, by push service, by browser, errors', async () => {
    const { code, stdout } = await run(['stats', 'm1', '--store', file]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(controls);
    expect(stdout).toContain('Message m1: Sale');
    expect(stdout).toMatch(/done, via send, by ann/);
    expect(stdout).toMatch(/targeted\s+sent\s+gone\s+failed\s+pruned\s+delivered\s+shown\s+clicked\s+closed\s+worker failed\s+click rate\n\s*3\s+2\s+0\s+1\s+0\s+2\s+2\s+1\s+0\s+0\s+50\.0%/);
    expect(stdout).toMatch(/unverified \(unsigned, not in the figures above\): delivered 0, shown 0, clicked 1/);
    expect(stdout).toMatch(/By push service\nSERVICE\s+SENT\s+GONE\s+FAILED\s+DELIVERED\s+SHOWN\s+CLICKED\s+CLOSED\nfcm\s+1\s+0\s+1\s+1\s+1\s+1\s+0\nmozilla\s+1\s+0\s+0\s+1\s+1\s+0\s+0/);
    expect(stdout).toMatch(/By browser\nBROWSER\s+DELIVERED\s+SHOWN\s+CLICKED\s+CLOSED\s+WORKER FAILED\nfirefox\s+2\s+2\s+1\s+0\s+0/);
    expect(stdout).toMatch(/Errors\nCAUSE\s+HOST\s+COUNT\s+SAMPLE\nhttp-5xx\s+fcm\.googleapis\.com\s+1\s+busy/);
  });

  it('--json prints what push.stats answers, with what a terminal would act on escaped', async () => {
    const one = await run(['stats', 'm1', '--store', file, '--json']);
    expect(one.code).toBe(0);
    expect(one.stdout).not.toMatch(/[\u007f-\u009f\u202e]/);
    const parsed = JSON.parse(one.stdout);
    expect(parsed).toMatchObject({ id: 'm1', title: hostileTitle, targeted: 3, sent: 2, delivered: 2, shown: 2, clicked: 1, clickRate: 0.5, unverified: { clicked: 1 } });
    const list = JSON.parse((await run(['stats', '--store', file, '--json', '--limit', '1'])).stdout);
    expect(list.items.map((item: { id: string }) => item.id)).toEqual(['m1']);
    expect(typeof list.next).toBe('string');
  });

  it('calls a running send overdue once its process has written nothing past its nextWriteBy', async () => {
    const now = Date.now();
    // A plain send() whose process died a while ago, and one whose process is alive.
    await store.createSend(sendRecord('dead', { createdAt: now - 3_600_000, state: 'running', startedAt: now - 3_600_000, nextWriteBy: now - 3_300_000, title: 'Died' }));
    await store.createSend(sendRecord('alive', { createdAt: now - 3_500_000, state: 'running', startedAt: now - 3_500_000, nextWriteBy: now + 60_000, title: 'Alive' }));
    try {
      const list = await run(['stats', '--store', file]);
      expect(list.stdout).toMatch(/\bdead\s+running \(overdue\)\s/);
      expect(list.stdout).toMatch(/\balive\s+running\s+0/);
      const one = await run(['stats', 'dead', '--store', file]);
      expect(one.stdout).toContain(`overdue since ${new Date(now - 3_300_000).toISOString().slice(0, 16).replace('T', ' ')} (UTC): the process sending it`);
      expect((await run(['stats', 'alive', '--store', file])).stdout).not.toContain('overdue');
    } finally {
      for (const id of ['dead', 'alive']) await store.updateSend(id, { state: 'cancelled', finishedAt: now });
    }
  });

  it('says so when the id is not in the log, and refuses bad flags', async () => {
    const missing = await run(['stats', 'nope', '--store', file]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no send with id "nope"');
    for (const [args, message] of [
      [['stats'], 'stats needs --store'],
      [['stats', '--store', join(cli.dir, 'missing.db')], 'does not exist'],
      [['stats', '--store', file, '--limit', '0'], '--limit must be'],
      [['stats', '--store', file, '--queue', 'q'], '--queue goes with --redis'],
      [['stats', '--store', file, '--redis', 'http://x'], '--redis must be'],
    ] as const) {
      const result = await run([...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });
});

const redisUp = await serviceAnswers('Redis', redisUrl);

describe.runIf(redisUp)('tidings stats --redis', () => {
  it("shows a queued send's live counts from Redis while the log still has the last batch's", async () => {
    const name = freshName('tidings-cli-stats');
    const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
    const queue = createSendQueue({ redis: redisUrl, store, vapid, name, batchSize: 10 });
    const { id } = await queue.send({ v: 1, notification: { title: 'Queued' } });
    // A sender part-way through a batch: two outcomes counted in Redis, none in the log yet.
    const bull = new Queue(name, { connection: { url: redisUrl } });
    const ledger = createSendLedger((await bull.client) as unknown as LedgerClient, name);
    await ledger.plan(id, 0, ['s1', 's2', 's3'], true);
    await ledger.count(id, 's1', 'sent', { service: 'fcm' });
    await ledger.count(id, 's2', 'failed', { service: 'fcm', failure: { cause: 'timeout', host: 'fcm.googleapis.com', sample: 'timeout' } });
    const fromLog = JSON.parse((await run(['stats', id, '--store', file, '--json'])).stdout);
    expect(fromLog).toMatchObject({ state: 'queued', sent: 0 });
    const live = JSON.parse((await run(['stats', id, '--store', file, '--redis', redisUrl, '--queue', name, '--json'])).stdout);
    // targeted is whom the send has dealt with so far (issue 21: a cancelled send's counts add up).
    expect(live).toMatchObject({ state: 'running', targeted: 2, sent: 1, failed: 1, byService: { fcm: { sent: 1, failed: 1 } }, errors: [{ cause: 'timeout', count: 1 }] });
    await queue.close();
    await bull.obliterate({ force: true });
    const client = (await bull.client) as unknown as { keys(p: string): Promise<string[]>; del(k: string): Promise<number> };
    for (const key of await client.keys(`tidings:${name}:*`)) await client.del(key);
    await bull.close();
  });
});
