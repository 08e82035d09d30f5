import type { Queue } from 'bullmq';
import { toSubscriptionQuery } from '../server/audience/toSubscriptionQuery.js';
import { TidingsError } from '../shared/TidingsError.js';
import { createSendLedger, type LedgerClient, type SendLedger } from './createSendLedger.js';
import { integerOption as positive } from '../server/common/checkOptions.js';
import { batchJobId, batchJobOptions, loadBullmq, queueSetup, type BatchJob } from './queueSetup.js';
import type { SendQueue, SendQueueOptions, SendStatus } from './queueTypes.js';
import { invalidOption as invalid, storeOption } from '../server/common/checkOptions.js';
import { checkCap } from '../server/controls/frequencyCap.js';
import { planSlices, sliceQuery } from '../server/controls/planSlices.js';
import { checkSendControls, isScheduled, SEND_CONTROLS } from '../server/controls/sendControls.js';
import { SLICE_MARK, sliceId } from './sliceId.js';
import { checkBy, sendRecordOf } from '../server/stats/sendRecordOf.js';
import { createPushStats } from '../server/stats/createPushStats.js';

/**
 * The producer side of durable sends (BullMQ on Redis): `send()` records the message and
 * its first batch and returns; senders (`startSendWorker`, `tidings sender`) on any
 * number of machines deliver it a batch of subscribers at a time. Nothing connects until
 * the first call. Options are checked here; a bad one throws TidingsError `invalid-option`.
 */
export function createSendQueue(options: SendQueueOptions): SendQueue {
  const { name, connection, sender } = queueSetup(options, 1);
  const batchSize = positive(options.batchSize, 500, 'batchSize');
  const defaultCap = checkCap(options.cap, 'cap') || undefined;
  if (options.now !== undefined && typeof options.now !== 'function') invalid('now', 'must be a function');
  const clock = options.now ?? Date.now;
  if (defaultCap) storeOption(options.store, ['capSends']);
  let opened: Promise<{ queue: Queue; ledger: SendLedger }> | undefined;
  let closed = false;

  const open = () => {
    if (closed) return Promise.reject(new TidingsError('queue-failed', { reason: 'the queue is closed' }));
    opened ??= (async () => {
      const { Queue } = loadBullmq();
      const queue = new Queue<BatchJob>(name, { connection });
      // A Redis hiccup surfaces as the rejection of the call that met it; unheard, the
      // event would end the process.
      queue.on('error', () => {});
      const client = await queue.waitUntilReady();
      return { queue, ledger: createSendLedger(client as unknown as LedgerClient, name) };
    })().catch((cause: unknown) => {
      opened = undefined;
      throw cause instanceof TidingsError ? cause : new TidingsError('queue-failed', { reason: String(cause), cause });
    });
    return opened;
  };

  async function status(id: string): Promise<SendStatus> {
    return (await open()).ledger.status(id);
  }

  return {
    async send(envelope, sendOptions = {}) {
      // Checked and given its id here, once: every batch and every retry sends this id.
      const message = sender.prepare(envelope, sendOptions);
      const by = checkBy(sendOptions.by);
      const query = toSubscriptionQuery(sendOptions.to);
      const now = clock();
      const controls = checkSendControls(sendOptions, now, defaultCap);
      if (controls.cap) storeOption(options.store, ['capSends']);
      const { id } = message.envelope;
      if (id.includes(SLICE_MARK)) invalid('envelope.id', 'must not hold the character U+0000');
      const { queue, ledger } = await open();
      const scheduled = isScheduled(controls);
      const slices = scheduled ? planSlices(controls, controls.at ?? now) : [];
      // The send log's row first: senders bring it up to date batch by batch. A call
      // retried after a crash finds it there and goes on to queue what is missing.
      const row = sendRecordOf(message, sendOptions, query, { via: 'queue', state: scheduled ? 'scheduled' : 'queued', now, by });
      if (scheduled) row.scheduledAt = slices[0]!.at;
      await options.store.createSend(row);
      // Every write below is made again by a retried call, and each is kept once (the
      // ledger's records by id, BullMQ's jobs by job id).
      const first = (send: string, at: number) =>
        queue.add('batch', { id: send, k: 0 }, { jobId: batchJobId(send, 0), ...batchJobOptions, ...(at > now ? { delay: at - now } : {}) });
      if (slices.length <= 1 && !slices[0]?.zones) {
        await ledger.create(id, { message, query, batchSize, controls }, scheduled ? 'scheduled' : 'queued');
        await first(id, slices[0]?.at ?? now);
      } else {
        // Local time, quiet hours: a send of its own per slice, each a delayed first batch.
        const children = slices.map((_, s) => sliceId(id, s));
        await ledger.create(id, { message, query, batchSize, controls, children }, 'scheduled');
        for (const [s, slice] of slices.entries()) {
          const deferred = slice.at > (controls.at ?? now);
          await ledger.create(children[s]!, { query: sliceQuery(query, slice), batchSize, parent: id, slice, deferred }, 'scheduled');
          await first(children[s]!, slice.at);
        }
      }
      return scheduled ? { id, scheduledAt: slices[0]!.at } : { id };
    },
    status,
    controls: SEND_CONTROLS,
    async cancel(id) {
      const { queue, ledger } = await open();
      const record = await ledger.record(id);
      if (!record) return undefined;
      for (const send of [id, ...(record.children ?? [])]) {
        await ledger.cancel(send);
        // A first batch still waiting goes; one running hears the cancel and stops, and
        // later batches find it and send nothing.
        await queue.remove(batchJobId(send, 0)).catch(() => 0);
      }
      await options.store.updateSend(id, await ledger.progress(id));
      return ledger.status(id);
    },
    stats: createPushStats(options.store),
    async wait(id, { onProgress, interval = 250 } = {}) {
      let last = '';
      for (;;) {
        const current = await status(id);
        const seen = JSON.stringify(current);
        if (seen !== last) {
          last = seen;
          onProgress?.(current);
        }
        if (current.state === 'done' || current.state === 'failed' || current.state === 'cancelled') return current;
        await new Promise((resolve) => setTimeout(resolve, interval));
      }
    },
    async close() {
      closed = true;
      const done = await opened?.catch(() => undefined);
      await done?.queue.close();
    },
  };
}
