import type { Queue } from 'bullmq';
import { toSubscriptionQuery } from '../server/audience/toSubscriptionQuery.js';
import { TidingsError } from '../shared/TidingsError.js';
import { createSendLedger, type LedgerClient, type SendLedger } from './createSendLedger.js';
import { integerOption as positive } from '../server/common/checkOptions.js';
import { batchJobId, batchJobOptions, loadBullmq, queueSetup, type BatchJob } from './queueSetup.js';
import type { SendQueue, SendQueueOptions, SendStatus } from './queueTypes.js';
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
      const { id } = message.envelope;
      const { queue, ledger } = await open();
      // The send log's row first: senders bring it up to date batch by batch. A call
      // retried after a crash finds it there and goes on to queue what is missing.
      await options.store.createSend(sendRecordOf(message, sendOptions, query, { via: 'queue', state: 'queued', now: Date.now(), by }));
      await ledger.create(id, { message, query, batchSize });
      // Added even when the send existed: a call retried after a crash between the two
      // writes still queues its first batch, and BullMQ keeps one job per id.
      await queue.add('batch', { id, k: 0 }, { jobId: batchJobId(id, 0), ...batchJobOptions });
      return { id };
    },
    status,
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
        if (current.state === 'done' || current.state === 'failed') return current;
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
