import type { Queue } from 'bullmq';
import { toSubscriptionQuery } from '../server/audience/toSubscriptionQuery.js';
import { TidingsError } from '../shared/TidingsError.js';
import { createSendLedger, RECORD_VERSION, type LedgerClient, type SendLedger } from './createSendLedger.js';
import { countAudience } from './countAudience.js';
import { integerOption as positive, invalidOption as invalid } from '../server/common/checkOptions.js';
import { MAX_BATCH_SIZE } from './checkBatch.js';
import { batchJobId, batchJobOptions, loadBullmq, queueSetup, type BatchJob } from './queueSetup.js';
import type { SendQueue, SendQueueOptions, SendStatus } from './queueTypes.js';
import { storeOption } from '../server/common/checkOptions.js';
import { checkCap } from '../server/controls/frequencyCap.js';
import { planSlices, sliceQuery } from '../server/controls/planSlices.js';
import { checkSendControls, isScheduled, SEND_CONTROLS } from '../server/controls/sendControls.js';
import { SLICE_MARK, sliceId } from './sliceId.js';
import { checkBy, sendRecordOf } from '../server/stats/sendRecordOf.js';
import { createPushStats } from '../server/stats/createPushStats.js';
import { countFinishedSends, metricsOption } from '../server/metrics/metricsOption.js';
import { createReporter, finishedEvent } from '../server/stats/createReporter.js';
import { queueDepth } from './queueDepth.js';

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
  const defaultCap = checkCap(options.cap, 'cap') || undefined;
  if (options.now !== undefined && typeof options.now !== 'function') invalid('now', 'must be a function');
  const clock = options.now ?? Date.now;
  if (defaultCap) storeOption(options.store, ['capSends']);
  // A module given is checked now; the installed one is loaded at the first call.
  if (options.bullmq !== undefined) loadBullmq(options.bullmq, ['Queue']);
  let opened: Promise<{ queue: Queue; ledger: SendLedger; client: ActiveClient }> | undefined;
  let closed = false;
  if (options.onError !== undefined && typeof options.onError !== 'function') invalid('onError', 'must be a function');
  const onError = options.onError ?? ((error: unknown) => console.error('tidings:', error));
  const metrics = metricsOption(options.metrics, onError);
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') invalid('onEvent', 'must be a function');
  const report = countFinishedSends(createReporter(options.onEvent, onError), metrics?.source);
  // Read at each scrape: the first one connects, as the first call does.
  if (metrics) metrics.source.queue = { name, depth: async () => queueDepth((await open()).queue) };

  const open = () => {
    if (closed) return Promise.reject(new TidingsError('queue-failed', { reason: 'the queue is closed' }));
    opened ??= (async () => {
      const { Queue } = loadBullmq(options.bullmq, ['Queue']);
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
      if (await options.store.createSend(row)) metrics?.source.sendCreated(row.state);
      await redisCall(async () => {
        // Every write below is made again by a retried call, and each is kept once (the
        // ledger's records by id, BullMQ's jobs by job id).
        const first = (send: string, at: number) =>
          queue.add('batch', { id: send, k: 0 }, { jobId: batchJobId(send, 0), ...batchJobOptions, ...(at > now ? { delay: at - now } : {}) });
        if (slices.length <= 1 && !slices[0]?.zones) {
          // Counted now, so progress has a total from the start; the batches, read later, fix
          // who is actually sent to (status.total then says exactly how many).
          const counted = await countAudience(store, query);
          await ledger.create(id, { v: RECORD_VERSION, message, query, batchSize, controls }, { state: scheduled ? 'scheduled' : 'queued', counted });
          await first(id, slices[0]?.at ?? now);
        } else {
          // Local time, quiet hours: a send of its own per slice, each a delayed first batch.
          const children = slices.map((_, s) => sliceId(id, s));
          await ledger.create(id, { v: RECORD_VERSION, message, query, batchSize, controls, children }, { state: 'scheduled' });
          for (const [s, slice] of slices.entries()) {
            const deferred = slice.at > (controls.at ?? now);
            await ledger.create(children[s]!, { v: RECORD_VERSION, query: sliceQuery(query, slice), batchSize, parent: id, slice, deferred }, { state: 'scheduled' });
            await first(children[s]!, slice.at);
          }
        }
      });
      return scheduled ? { id, scheduledAt: slices[0]!.at } : { id };
    },
    status,
    controls: SEND_CONTROLS,
    async cancel(id) {
      const { queue, ledger } = await open();
      const record = (await redisCall(() => ledger.record(id))) as { children?: unknown } | undefined;
      if (!record || typeof record !== 'object') return undefined;
      const children = Array.isArray(record.children) ? record.children.filter((child): child is string => typeof child === 'string') : [];
      for (const send of [id, ...children]) {
        await ledger.cancel(send);
        // A first batch still waiting goes; one running hears the cancel and stops, and
        // later batches find it and send nothing.
        await queue.remove(batchJobId(send, 0)).catch(() => 0);
      }
      const updated = await options.store.updateSend(id, await ledger.progress(id));
      if (updated?.finished) report(finishedEvent(updated.send));
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
    metrics: metrics?.registry,
    async close() {
      closed = true;
      if (metrics) metrics.source.queue = undefined;
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
