import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDashboardData } from '../../../src/dashboard/data/createDashboardData.js';
import {
  createPushServer,
  generateVapidKeys,
  memoryStore,
  overdueSince,
  sqliteStore,
  type SendRecord,
  type SubscriptionStore,
} from '../../../src/server/index.js';
import { SEND_HEARTBEAT_MS, SEND_QUIET_MS } from '../../../src/server/stats/overdueSince.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { makeCliScratch, type CliScratch } from '../../support/cliScratch.js';

// A plain push.send() has no lease: when its process dies mid-way, nobody else finishes
// it, and its row used to say `running` for ever. The row now says by when its process
// will have written again (every page, and a heartbeat a minute between pages), and a
// reader past that time calls the send overdue: push.status, the dashboard, overdueSince().

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const row = (fields: Partial<SendRecord>): SendRecord =>
  ({ id: 'm1', via: 'send', state: 'running', createdAt: 0, ...fields }) as SendRecord;

describe('overdueSince', () => {
  it('is the nextWriteBy of a running plain or scheduled send, once it has passed', () => {
    expect(overdueSince(row({ nextWriteBy: 1000 }), 1001)).toBe(1000);
    expect(overdueSince(row({ nextWriteBy: 1000 }), 1000)).toBeUndefined();
    expect(overdueSince(row({ nextWriteBy: 1000 }), 999)).toBeUndefined();
  });

  it('is the time a scheduled send should have started by, SEND_QUIET_MS after its time', () => {
    const scheduled = row({ state: 'scheduled', scheduledAt: 10_000 });
    expect(overdueSince(scheduled, 10_000 + SEND_QUIET_MS)).toBeUndefined();
    expect(overdueSince(scheduled, 10_001 + SEND_QUIET_MS)).toBe(10_000 + SEND_QUIET_MS);
  });

  it('says nothing of a finished send, a queued one (the queue watches those), or a row from before nextWriteBy', () => {
    for (const state of ['done', 'cancelled', 'failed'] as const) expect(overdueSince(row({ state, nextWriteBy: 1 }), 10)).toBeUndefined();
    expect(overdueSince(row({ via: 'queue', nextWriteBy: 1 }), 10)).toBeUndefined();
    expect(overdueSince(row({ via: 'queue', state: 'queued' }), 10)).toBeUndefined();
    expect(overdueSince(row({}), Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });
});

describe('a plain send() whose process is killed mid-way', () => {
  let scratch: CliScratch;
  let child: ChildProcess | undefined;
  beforeAll(() => {
    scratch = makeCliScratch();
    // The sender in its own process, on a SQLite file both processes open: 20 subscribers
    // of a local push service at 2 a second, so it is still running when it is killed.
    writeFileSync(
      join(scratch.dir, 'slowSend.mjs'),
      `import { createPushServer, sqliteStore } from './out/src/server/index.js';
import { startPushService } from './out/src/testing/index.js';
const [file, vapid] = [process.argv[2], JSON.parse(process.argv[3])];
const service = await startPushService();
const store = sqliteStore(file);
for (let i = 0; i < 20; i++) await store.saveSubscription({ subscription: await service.subscribe(vapid.publicKey) });
const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, retries: 0 });
void push.send({ v: 1, id: 'slow-1', notification: { title: 'Slow' } }, { perSecond: 2 });
`,
    );
  });
  afterAll(() => scratch.remove());
  afterEach(() => void child?.kill('SIGKILL'));

  it('stays running, is overdue once its nextWriteBy has passed, and a cancel closes it', async () => {
    const file = join(scratch.dir, 'killed.db');
    child = spawn(process.execPath, [join(scratch.dir, 'slowSend.mjs'), file, JSON.stringify(vapid)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const store = sqliteStore(file);
    let running: SendRecord | undefined;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((wake) => setTimeout(wake, 50))) {
      running = await store.getSend('slow-1').catch(() => undefined);
      if (running?.state === 'running') break;
    }
    expect(running?.state).toBe('running');
    // A push or two out, the rest waiting for the pacer: the process dies.
    await new Promise((wake) => setTimeout(wake, 800));
    child.kill('SIGKILL');
    await new Promise((exited) => child!.once('exit', exited));

    const left = (await store.getSend('slow-1'))!;
    expect(left.state).toBe('running');
    expect(left.sent).toBe(0); // its only page never ended, so nothing past the first write
    expect(left.nextWriteBy).toBe(left.startedAt! + SEND_QUIET_MS);

    let clock = left.nextWriteBy!;
    const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, now: () => clock, scheduler: false });
    const dashboard = createDashboardData(push, undefined, { engagementWarning: 0.1, identityAttribute: 'user', now: () => clock });
    expect((await dashboard.message('slow-1'))?.progress?.overdueSince).toBeUndefined();
    expect((await dashboard.messages())?.items[0]?.overdueSince).toBeUndefined();

    clock += 1;
    expect(overdueSince((await push.status('slow-1'))!, clock)).toBe(left.nextWriteBy);
    expect((await dashboard.message('slow-1'))?.progress).toMatchObject({ state: 'running', overdueSince: left.nextWriteBy });
    expect((await dashboard.messages())?.items[0]).toMatchObject({ id: 'slow-1', state: 'running', overdueSince: left.nextWriteBy });

    expect(await push.cancel('slow-1')).toMatchObject({ state: 'cancelled' });
    const after = await dashboard.message('slow-1');
    expect(after?.progress).toBeUndefined();
    expect(after?.message?.overdueSince).toBeUndefined();
    await store.close?.();
  }, 40_000);
});

describe('a running send writes a sign of life between pages', () => {
  let service: PushService;
  let store: SubscriptionStore;
  afterEach(async () => {
    vi.useRealTimers();
    await service.close();
  });

  /** A send at 2 a second to `count` subscribers, on a clock the test moves, with setInterval faked (the heartbeat) and the pacer's timeouts real. */
  async function slowSend(count: number) {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    service = await startPushService();
    store = memoryStore();
    for (let i = 0; i < count; i++) await store.saveSubscription({ subscription: await service.subscribe(vapid.publicKey) });
    const clock = { now: 1_000_000 };
    const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, retries: 0, now: () => clock.now, scheduler: false });
    const sending = push.send({ v: 1, id: 'paced-1', notification: { title: 'Paced' } }, { perSecond: 2 });
    for (let n = 0; n < 100 && (await store.getSend('paced-1'))?.state !== 'running'; n++) await new Promise((wake) => setTimeout(wake, 10));
    return { clock, sending };
  }

  it('moves nextWriteBy on every minute of a page that takes long', async () => {
    const { clock, sending } = await slowSend(6);
    expect((await store.getSend('paced-1'))!.nextWriteBy).toBe(1_000_000 + SEND_QUIET_MS);
    clock.now += SEND_HEARTBEAT_MS;
    await vi.advanceTimersByTimeAsync(SEND_HEARTBEAT_MS);
    await vi.waitFor(async () => expect((await store.getSend('paced-1'))!.nextWriteBy).toBe(clock.now + SEND_QUIET_MS), { timeout: 2000 });
    expect((await sending).sent).toBe(6);
    // Ended: no heartbeat is left behind.
    expect(vi.getTimerCount()).toBe(0);
  }, 20_000);

  it('hears a cancel written by another process at its next beat, before the page ends', async () => {
    const { sending } = await slowSend(20);
    await store.updateSend('paced-1', { state: 'cancelled', finishedAt: Date.now() });
    await vi.advanceTimersByTimeAsync(SEND_HEARTBEAT_MS);
    const result = await sending;
    expect(result.sent).toBeLessThan(20);
    expect((await store.getSend('paced-1'))!.state).toBe('cancelled');
  }, 20_000);
});
