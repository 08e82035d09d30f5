import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type DashboardPush } from '../../../src/dashboard/index.js';
import type { SendRecord } from '../../../src/dashboard/statsContract.js';
import { createSendQueue, startSendWorker } from '../../../src/queue/index.js';
import type { Envelope } from '../../../src/shared/protocol.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { pushWithSubscribers, vapid } from '../../support/dashboard/dashboardFixture.js';
import { freshName, redisUrl, serviceAnswers } from '../../support/services.js';

// A send's progress and its cancel, as the message page reads them: from the real queue
// (Redis, BullMQ, a real sender) while the send log says it runs, then from the send log
// (push.stats) once it is over; and from issue 21's push.cancel and scheduled sends, which
// do not exist yet and are stood in for below by the smallest object with their shape.

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
      const before = (await (await call(handler, `/api/messages/${sent.id}`)).json()) as { data: { progress: { state: string }; cancellable: boolean } };
      expect(before.data).toMatchObject({ progress: { state: 'queued' }, cancellable: true });

      const worker = await startSendWorker({ redis: redisUrl, store, vapid, allowLoopbackEndpoints: true, name });
      try {
        type Counts = { state: string; sent: number; targeted?: number };
        let seen: { progress?: Counts; message?: Counts } = {};
        // The queue's progress while the log says it runs; the log's row once it is done.
        for (let i = 0; i < 100 && seen.message?.state !== 'done'; i++) {
          seen = ((await (await call(handler, `/api/messages/${sent.id}`)).json()) as { data: typeof seen }).data;
          if (seen.message?.state !== 'done') await new Promise((resolve) => setTimeout(resolve, 50));
        }
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
});

/** Stands in for issue 21's scheduled sends: send({ at }) records and answers at once; status and cancel read the record. */
function scheduledPush(): DashboardPush & { records: Map<string, SendRecord> } {
  const records = new Map<string, SendRecord>();
  return {
    records,
    controls: ['at'],
    async send(envelope: Envelope, options: Record<string, unknown> = {}) {
      const id = `send-${records.size + 1}`;
      const counts = { targeted: 0, sent: 0, gone: 0, failed: 0, pruned: 0, capped: 0, deferred: 0 };
      records.set(id, { id, envelope, audience: options.to ?? null, options, via: 'send', state: 'scheduled', createdAt: 0, scheduledAt: options.at as number, failures: [], ...counts });
      return { id };
    },
    async status(id) {
      return records.get(id);
    },
    async cancel(id) {
      const record = records.get(id);
      if (record) record.state = 'cancelled';
      return record;
    },
  };
}

describe('a scheduled send (issue 21 shape)', () => {
  it('is offered "at", shows as scheduled with a cancel, and cancel stops it', async () => {
    const push = scheduledPush();
    const { handler } = createDashboard({ push, authorize: () => 'ann', basePath: '/admin' });
    const at = Date.UTC(2030, 0, 1, 9);
    const sent = (await (await call(handler, '/api/send', { envelope: { v: 1, notification: { title: 'Later' } }, to: null, confirm: null, options: { at } })).json()) as { id: string };
    expect(push.records.get(sent.id)?.options).toEqual({ at, by: 'ann' });
    const page = (await (await call(handler, `/api/messages/${sent.id}`)).json()) as { data: { progress: { state: string }; cancellable: boolean } };
    expect(page.data).toMatchObject({ progress: { state: 'scheduled' }, cancellable: true });
    const cancelled = await call(handler, `/api/messages/${sent.id}/cancel`, {});
    expect(await cancelled.json()).toMatchObject({ progress: { state: 'cancelled' } });
    const after = (await (await call(handler, `/api/messages/${sent.id}`)).json()) as { data: { cancellable: boolean } };
    expect(after.data.cancellable).toBe(false);
    expect((await call(handler, '/api/messages/unknown/cancel', {})).status).toBe(404);
  });
});


describe("compose with createPushServer's own controls (issue 21)", () => {
  it('sends each control as send() takes it: the send waits, its page shows it scheduled, and cancel stops it', async () => {
    const { store, push } = await pushWithSubscribers(pushService, [{ attributes: { user: '1' } }, { attributes: { user: '2' } }]);
    const { handler } = createDashboard({ push, authorize: () => 'ann', basePath: '/admin' });
    const session = ((await (await call(handler, '/api/compose')).json()) as { session: { capabilities: Record<string, unknown> } }).session;
    expect(session.capabilities).toMatchObject({ progress: true, cancel: true, controls: ['at', 'localTime', 'timeZone', 'quietHours', 'perSecond', 'cap'] });
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
