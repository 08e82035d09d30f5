import type { Queue } from 'bullmq';
import { toSubscriptionQuery } from '../server/audience/toSubscriptionQuery.js';
import { TidingsError } from '../shared/TidingsError.js';
import { createSendLedger, RECORD_VERSION, type LedgerClient, type SendLedger } from './createSendLedger.js';
import { countAudience } from './countAudience.js';
import { integerOption as positive, invalidOption as invalid } from '../server/common/checkOptions.js';
import { MAX_BATCH_SIZE } from './checkBatch.js';
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
  const { store } = options;
  const batchSize = positive(options.batchSize, 500, 'batchSize');
  if (batchSize > MAX_BATCH_SIZE) invalid('batchSize', `must be at most ${MAX_BATCH_SIZE}`);
  let opened: Promise<{ queue: Queue; ledger: SendLedger; client: ActiveClient }> | undefined;
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
      return { queue, ledger: createSendLedger(client as unknown as LedgerClient, name), client: client as unknown as ActiveClient };
    })().catch((cause: unknown) => {
      opened = undefined;
      throw cause instanceof TidingsError ? cause : new TidingsError('queue-failed', { reason: String(cause), cause });
    });
    return opened;
  };

  async function status(id: string): Promise<SendStatus> {
    const { queue, ledger, client } = await open();
    return redisCall(async () => {
      const current = await ledger.status(id);
      if (current.state === 'running' || current.state === 'queued') {
        const stalled = await lostBatches(queue, client, id);
        if (stalled > 0) current.stalled = stalled;
      }
      return current;
    });
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
      // Counted now, so progress has a total from the start; the batches, read later, fix
      // who is actually sent to (status.total then says exactly how many).
      const counted = await countAudience(store, query);
      await redisCall(async () => {
        await ledger.create(id, { v: RECORD_VERSION, message, query, batchSize }, counted);
        // Added even when the send existed: a call retried after a crash between the two
        // writes still queues its first batch, and BullMQ keeps one job per id.
        await queue.add('batch', { id, k: 0 }, { jobId: batchJobId(id, 0), ...batchJobOptions });
      });
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

/** Redis answers in its own words (a ReplyError, a closed connection): the queue's callers get a TidingsError. */
async function redisCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    if (cause instanceof TidingsError) throw cause;
    throw new TidingsError('queue-failed', { reason: `Redis: ${(cause as Error).message}`, cause });
  }
}

/** The two commands lostBatches needs, on BullMQ's own ioredis client. */
interface ActiveClient {
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  exists(...keys: string[]): Promise<number>;
}

/**
 * Batches of this send that a sender took and no longer holds: active in BullMQ, their
 * lock gone (it lapses `lockDuration` after the sender's last renewal). They stay so until
 * a live sender's stall check hands them out again. Read from the job ids, which name the
 * send (batchJobId), so no job is loaded.
 */
async function lostBatches(queue: Queue, client: ActiveClient, id: string): Promise<number> {
  const suffix = batchJobId(id, 0).slice(batchJobId(id, 0).indexOf('.'));
  const mine = (await client.lrange(queue.toKey('active'), 0, -1)).filter((jobId) => /^b\d+\./.test(jobId) && jobId.endsWith(suffix));
  let lost = 0;
  for (const jobId of mine) if ((await client.exists(`${queue.toKey(jobId)}:lock`)) === 0) lost++;
  return lost;
}
