import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../../src/dashboard/index.js';
import { createSendQueue, startSendWorker } from '../../../src/queue/index.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { pushWithSubscribers, vapid } from '../../support/dashboard/dashboardFixture.js';
import { freshName, redisUrl, serviceAnswers } from '../../support/services.js';

// A send's progress and its cancel, as the message page reads them: the send log's row
// (push.stats) always, with the real queue's live counts (Redis, BullMQ, a real sender)
// while it runs; and createPushServer's own scheduled sends, status and cancel.

const origin = 'https://site.example';
const call = (handler: (request: Request) => Promise<Response>, path: string, body?: unknown) =>
  handler(
    new Request(`${origin}/admin${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify(body) }),
  );

let pushService: PushService;
beforeAll(async () => {
  pushService = await startPushService();
});
afterAll(() => pushService.close());

const redisUp = await serviceAnswers('Redis', redisUrl);

describe.runIf(redisUp)('a send through the queue', () => {
  it('answers at once with the id, and its page shows the progress the queue reports until it is done, with cancel offered until then', async () => {
    const { store, push } = await pushWithSubscribers(pushService, Array.from({ length: 5 }, (_, i) => ({ attributes: { user: String(i) } })));
    const name = freshName('tidings-dashboard');
    const queue = createSendQueue({ redis: redisUrl, store, vapid, allowLoopbackEndpoints: true, name, batchSize: 2 });
    try {
      const { handler } = createDashboard({ push, queue, authorize: () => 'ann', basePath: '/admin' });
      const session = ((await (await call(handler, '/api/compose')).json()) as { session: { capabilities: Record<string, unknown> } }).session;
      expect(session.capabilities).toMatchObject({ queue: true, progress: true, cancel: true });
      const sent = (await (await call(handler, '/api/send', { envelope: { v: 1, notification: { title: 'Queued' } }, to: null, confirm: 5 })).json()) as { id: string; via: string };
      expect(sent.via).toBe('queue');
      // One shape: the send log's row, and its progress with the queue's counts (the audience counted when queued).
      const before = (await (await call(handler, `/api/messages/${sent.id}`)).json()) as { data: Record<string, unknown> };
      expect(before.data).toMatchObject({
        message: { id: sent.id, state: 'queued', via: 'queue', by: 'ann', title: 'Queued' },
        progress: { state: 'queued', expected: 5, targeted: 0, sent: 0, gone: 0, failed: 0, capped: 0, deferred: 0 },
        cancellable: true,
      });

      const worker = await startSendWorker({ redis: redisUrl, store, vapid, allowLoopbackEndpoints: true, name });
      try {
        type Counts = { state: string; sent: number; targeted: number; gone: number; failed: number; capped: number };
        let seen: { progress?: Counts; message?: Counts } = {};
        const progressed: Counts[] = [];
        // The queue's progress while the log says it runs; the log's row once it is done.
        for (let i = 0; i < 100 && seen.message?.state !== 'done'; i++) {
          seen = ((await (await call(handler, `/api/messages/${sent.id}`)).json()) as { data: typeof seen }).data;
          if (seen.progress) progressed.push(seen.progress);
          if (seen.message?.state !== 'done') await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // Whenever read, the progress adds up: whom it dealt with is who was sent, gone, failed or capped.
        for (const p of progressed) expect(p.targeted).toBe(p.sent + p.gone + p.failed + p.capped);
        expect(seen.message).toMatchObject({ state: 'done', sent: 5, targeted: 5, via: 'queue', by: 'ann' });
        expect(seen.progress).toBeUndefined();
        const after = (await (await call(handler, `/api/messages/${sent.id}`)).json()) as { data: { cancellable: boolean } };
        expect(after.data.cancellable).toBe(false);
      } finally {
        await worker.close();
      }
      expect((await call(handler, '/api/messages/never-queued')).status).toBe(404);
    } finally {
      await queue.close();
    }
  });

  it('cancels a throttled send mid-way from its page: the row says cancelled and its counts add up', async () => {
    const { store, push } = await pushWithSubscribers(pushService, Array.from({ length: 12 }, (_, i) => ({ attributes: { user: String(i) } })));
    const name = freshName('tidings-dashboard');
    const queue = createSendQueue({ redis: redisUrl, store, vapid, allowLoopbackEndpoints: true, name, batchSize: 4 });
    const worker = await startSendWorker({ redis: redisUrl, store, vapid, allowLoopbackEndpoints: true, name });
    try {
      const { handler } = createDashboard({ push, queue, authorize: () => 'ann', basePath: '/admin' });
      const sent = (await (await call(handler, '/api/send', { envelope: { v: 1, notification: { title: 'Slow' } }, to: null, confirm: 12, options: { perSecond: 4 } })).json()) as { id: string };
      type Page = { data: { progress?: { state: string; sent: number; expected?: number }; cancellable: boolean } };
      let page: Page['data'] | undefined;
      for (let i = 0; i < 100 && !(page?.progress && page.progress.sent > 0); i++) {
        page = ((await (await call(handler, `/api/messages/${sent.id}`)).json()) as Page).data;
        if (!(page.progress && page.progress.sent > 0)) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(page).toMatchObject({ progress: { state: 'running', expected: 12 }, cancellable: true });
      const cancelled = (await (await call(handler, `/api/messages/${sent.id}/cancel`, {})).json()) as { progress: { state: string; sent: number } };
      expect(cancelled.progress.state).toBe('cancelled');
      expect(cancelled.progress.sent).toBeLessThan(12);
      // After the batches in flight (a sender hears of the cancel within 200 ms), the row stops changing.
      type Row = { data: { message: { state: string; targeted: number; sent: number; gone: number; failed: number; capped: number }; progress?: unknown; cancellable: boolean } };
      let after: Row['data'] | undefined;
      for (let last = '', same = 0; same < 5; ) {
        after = ((await (await call(handler, `/api/messages/${sent.id}`)).json()) as Row).data;
        same = JSON.stringify(after) === last ? same + 1 : 0;
        last = JSON.stringify(after);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      after = after!;
      expect(after.progress).toBeUndefined();
      expect(after.cancellable).toBe(false);
      const row = after.message;
      expect(row.state).toBe('cancelled');
      expect(row.targeted).toBe(row.sent + row.gone + row.failed + row.capped);
      expect(row.sent).toBeLessThan(12);
      const received = (await store.findSubscriptions()).reduce((n, s) => n + pushService.messages(s.subscription.endpoint).length, 0);
      expect(received).toBe(row.sent);
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});

describe("compose with createPushServer's own controls (issue 21)", () => {
  it('sends each control as send() takes it: the send waits, its page shows it scheduled, and cancel stops it', async () => {
    const { store, push } = await pushWithSubscribers(pushService, [{ attributes: { user: '1' } }, { attributes: { user: '2' } }]);
    const { handler } = createDashboard({ push, authorize: () => 'ann', basePath: '/admin' });
    const session = ((await (await call(handler, '/api/compose')).json()) as { session: { capabilities: Record<string, unknown> } }).session;
    expect(session.capabilities).toMatchObject({ progress: true, cancel: true, controls: ['at', 'localTime', 'timeZone', 'quietHours', 'perSecond', 'cap', 'locales'] });
    // As ControlFields.toOptions makes them.
    const at = Date.now() + 3_600_000;
    const options = { at, localTime: '09:00', timeZone: 'Europe/Paris', quietHours: ['22:00', '07:00'], perSecond: 50, cap: { max: 3, per: '1d' }, ttl: 600 };
    const answer = await call(handler, '/api/send', { envelope: { v: 1, notification: { title: 'Tomorrow' } }, to: null, confirm: 2, options });
    expect(answer.status).toBe(200);
    const sent = (await answer.json()) as { id: string; via: string; scheduledAt?: number; result?: unknown };
    expect(sent).toMatchObject({ via: 'send', scheduledAt: expect.any(Number) });
    expect(sent.result).toBeUndefined();
    expect(await push.status(sent.id)).toMatchObject({ state: 'scheduled', by: 'ann', options: { ...options } });
    const page = (await (await call(handler, `/api/messages/${sent.id}`)).json()) as { data: { progress: { state: string }; cancellable: boolean } };
    expect(page.data).toMatchObject({ progress: { state: 'scheduled' }, cancellable: true });
    expect(await (await call(handler, `/api/messages/${sent.id}/cancel`, {})).json()).toMatchObject({ progress: { state: 'cancelled', sent: 0 } });
    expect(await push.status(sent.id)).toMatchObject({ state: 'cancelled' });
    // A control send() refuses is a 400 that names it, before anything is kept.
    const refused = await call(handler, '/api/send', { envelope: { v: 1, notification: { title: 'x' } }, to: null, confirm: 2, options: { quietHours: ['22:00', '22:00'] } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid-option', field: 'quietHours' });
    expect((await store.listSends({ limit: 10 })).length).toBe(1);
  });
});
