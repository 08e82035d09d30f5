import type { Job } from 'bullmq';
import type { SendResult } from '../server/send/sendTypes.js';
import type { StoredSubscription } from '../server/stores/SubscriptionStore.js';
import { TidingsError } from '../shared/TidingsError.js';
import { createSendLedger, type LedgerClient, type SendRecord } from './createSendLedger.js';
import { integerOption as positive } from '../server/common/checkOptions.js';
import { batchJobId, batchJobOptions, loadBullmq, queueSetup, type BatchJob } from './queueSetup.js';
import { checkJob, checkRecord } from './checkBatch.js';
import type { SendWorker, SendWorkerOptions } from './queueTypes.js';
import { outcomeFacts } from '../server/stats/createSendTally.js';
import { createReporter, finishedEvent, type OnEvent } from '../server/stats/createReporter.js';
import { capPage } from '../server/controls/capPage.js';
import { createPacer } from '../server/controls/createPacer.js';
import { inSlice } from '../server/controls/planSlices.js';
import { sendOf } from './sliceId.js';
import { countFinishedSends, metricsOption } from '../server/metrics/metricsOption.js';
import { queueDepth } from './queueDepth.js';

/** ms between a running batch's looks at its send's state, so a cancel stops it within this (plus the pushes in flight). */
const CANCEL_POLL = 200;

/**
 * A sender: takes batches of queued sends from Redis and delivers them, until closed.
 * Run as many as you like, on any machines that reach the same Redis and store. A sender
 * that dies mid-batch (SIGKILL, power) stops renewing its lock; within `lockDuration +
 * stalledInterval` (10 s by default) another sender takes the batch again, skipping the
 * subscribers already counted. `close()` (the
 * CLI calls it on SIGTERM) stops taking batches and finishes those in flight.
 */
export async function startSendWorker(options: SendWorkerOptions): Promise<SendWorker> {
  const concurrency = positive(options.concurrency, 50, 'concurrency');
  const { name, connection, sender, policy } = queueSetup(options, concurrency);
  // A killed sender costs at most lockDuration + stalledInterval: 10 s. The lock is renewed
  // every 4 s and lapses at 8 s, so a live sender keeps its batch through a 4 s stall of
  // its event loop; checking every 2 s costs Redis one short script per queue.
  const lockDuration = positive(options.lockDuration, 8000, 'lockDuration', 1000);
  const stalledInterval = positive(options.stalledInterval, 2000, 'stalledInterval', 1000);
  const { store } = options;
  const { Queue, Worker, UnrecoverableError } = loadBullmq(options.bullmq, ['Queue', 'Worker', 'UnrecoverableError']);
  for (const hook of ['onEvent', 'onError'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw new TidingsError('invalid-option', { option: hook, reason: 'must be a function' });
  }
  const onError = options.onError ?? ((error: unknown) => console.error('tidings:', error));
  const metrics = metricsOption(options.metrics, onError);
  const report = countFinishedSends(createReporter(options.onEvent as OnEvent | undefined, onError), metrics?.source);

  // The worker adds each next batch itself, so it needs the producer's handle too.
  const queue = new Queue<BatchJob>(name, { connection });
  // Unheard, a connection error event would end the sender; ioredis reconnects by itself.
  queue.on('error', () => {});
  const client = await queue.waitUntilReady().catch((cause: unknown) => {
    throw new TidingsError('queue-failed', { reason: `cannot reach Redis: ${String(cause)}`, cause });
  });
  const ledger = createSendLedger(client as unknown as LedgerClient, name);
  if (metrics) {
    policy.observer = metrics.source.delivery;
    metrics.source.breaker = () => policy.breaker.snapshot();
    metrics.source.queue = { name, depth: () => queueDepth(queue) };
  }

  /** A send's record from Redis, checked before it is trusted (checkRecord), or the reason the batch can never run. */
  async function checkedRecord(id: string): Promise<SendRecord> {
    const stored = await ledger.record(id);
    if (stored === undefined) {
      throw new UnrecoverableError(
        (await ledger.queuedUnescaped(id))
          ? `queued by tidings 0.1.0 under keys another send's id can spell (its id has ':' or '%'): not sent; queue it again`
          : `no send with id ${id} (expired or never queued)`,
      );
    }
    const record = checkRecord(stored, id);
    if (typeof record === 'string') throw new UnrecoverableError(record);
    return record;
  }

  async function runBatch(job: Job<BatchJob>): Promise<void> {
    const data = checkJob(job.data);
    if (typeof data === 'string') throw new UnrecoverableError(data);
    const { id, k, after } = data;
    const record = await checkedRecord(id);
    const { query, batchSize, slice } = record;
    // A slice of a send (local time, quiet hours) sends its parent's message, under its controls.
    const parent = record.parent === undefined ? record : await checkedRecord(record.parent);
    const message = parent.message;
    if (!message) throw new UnrecoverableError(`no message for send ${sendOf(id)} (expired or never queued)`);
    const controls = parent.controls ?? { timeZone: 'UTC' };
    const state = await ledger.state(id);
    // A job left over from a finished send (a retry after the send completed) pushes
    // nothing; it only brings the send log to Redis's final counts, in case the run that
    // finished the send could not write them.
    if (state === 'done' || state === 'failed') return syncSendLog(sendOf(id));
    // Cancelled before this batch began: it sends nothing, and adds no next batch.
    if (state === 'cancelled') {
      await ledger.complete(id, k);
      return;
    }
    // Batch k follows a full batch k - 1 and starts after its last member: a job that says
    // otherwise was not queued by a sender, and would push to whoever its cursor names.
    if (k > 0) {
      const previous = await ledger.planned(id, k - 1);
      if (!previous || previous.length !== batchSize || previous.at(-1) !== after) {
        throw new UnrecoverableError(`batch ${k} does not follow batch ${k - 1} (its cursor is not where batch ${k - 1} ended)`);
      }
    }

    // A batch's members are fixed on its first run: a rerun after a crash sends to the same
    // subscribers, not to whatever page the store would answer now.
    let members = await ledger.planned(id, k);
    let read: StoredSubscription[] | undefined;
    if (!members) {
      read = await store.findSubscriptions({ ...query, limit: batchSize, after });
      // A store that breaks the paging contract will not mend on a retry: fail the send now.
      if (!keepsPaging(read, batchSize, after)) {
        throw new UnrecoverableError(new TidingsError('store-failed', { reason: 'findSubscriptions ignored its paging (limit, after, id order)' }).message);
      }
      members = await ledger.plan(id, k, read.map((entry) => entry.id), read.length < batchSize);
    }
    // The next batch can go to another sender while this one delivers.
    if (members.length === batchSize) {
      const next: BatchJob = { id, k: k + 1, after: members.at(-1)! };
      await queue.add('batch', next, { jobId: batchJobId(id, k + 1), ...batchJobOptions });
    }

    const reached = await ledger.reached(id, members);
    const todo = members.filter((member) => !reached.has(member));
    const accepted: string[] = [];
    if (todo.length > 0) {
      const planned = new Set(members);
      // The page just read is the batch when this run planned it and nobody was reached yet.
      const fresh = read !== undefined && todo.length === read.length && read.every((entry, i) => entry.id === todo[i]);
      const entries = fresh ? read! : (await store.findSubscriptions({ ids: todo })).filter((entry) => planned.has(entry.id));
      // Deleted before their turn (unsubscribed, or pruned by another send): gone.
      const found = new Set(entries.map((entry) => entry.id));
      for (const member of todo) if (!found.has(member)) await ledger.count(id, member, 'gone');
      // A slice's subscribers only; past the frequency cap (recorded in the store first).
      const mine = slice ? entries.filter((entry) => inSlice(entry, slice)) : entries;
      const { allowed, capped } = await capPage(store, mine, message.envelope.id, controls, Date.now());
      for (const member of capped) await ledger.count(id, member, 'capped');
      const result: SendResult = { id, sent: 0, gone: 0, failed: 0, pruned: 0, errors: [] };
      // A cancel is heard while the batch runs: no push starts after it.
      const controller = new AbortController();
      const listening = setInterval(() => {
        ledger.state(id).then((state) => state === 'cancelled' && controller.abort(), () => {});
      }, CANCEL_POLL);
      const { perSecond } = controls;
      // Every sender of the send books its slots in Redis, never more than this batch uses.
      const pacer = perSecond ? createPacer((want) => ledger.book(sendOf(id), perSecond, want), Math.min(perSecond, 100), allowed.length) : undefined;
      try {
        await sender.sendTo(
          // A batch run again may repeat pushes of the run before (markRetry).
          fresh ? message : { ...message, retry: true },
          allowed.values(),
          result,
          (entry, outcome) => {
            if (outcome.outcome === 'sent') accepted.push(entry.id);
            return ledger.count(id, entry.id, outcome.outcome, outcomeFacts(entry, outcome));
          },
          { pacer, signal: controller.signal },
        );
      } finally {
        clearInterval(listening);
      }
      await ledger.addPruned(id, result.pruned);
    }
    await ledger.complete(id, k);
    // The send log, once per batch: what Redis says now, absolute. A rerun of the batch (or
    // another sender's write) brings the row to the same place, never past it.
    if (accepted.length > 0) await store.markSent(accepted, Date.now());
    await syncSendLog(sendOf(id));
  }

  /** Writes the ledger's counts of a send into the store's send log; reports its finish once. */
  async function syncSendLog(id: string): Promise<void> {
    const updated = await store.updateSend(id, await ledger.progress(id));
    if (updated?.finished) report(finishedEvent(updated.send));
  }

  const worker = new Worker<BatchJob>(name, runBatch, {
    connection,
    // One batch at a time; its pushes run `concurrency` at once inside it.
    concurrency: 1,
    lockDuration,
    stalledInterval,
    // A batch may outlive a few dead senders before it is given up.
    maxStalledCount: 3,
  });
  worker.on('failed', (job, error) => {
    // The last attempt failed (or the job can never succeed): the send ends as failed.
    const final = error instanceof UnrecoverableError || /stalled more than allowable limit/.test(error.message);
    // A job without a message id names no send whose status could say why.
    const id = (job?.data as { id?: unknown } | undefined)?.id;
    if (job && typeof id === 'string' && id.length > 0 && (final || job.attemptsMade >= (job.opts.attempts ?? 1))) {
      ledger
        .fail(id, `batch ${JSON.stringify(job.data.k)}: ${error.message}`)
        .then(() => syncSendLog(sendOf(id)))
        .catch(onError);
    }
  });
  // Without a listener an error event would throw; Redis hiccups are retried by ioredis.
  worker.on('error', () => {});
  await worker.waitUntilReady().catch((cause: unknown) => {
    throw new TidingsError('queue-failed', { reason: `cannot reach Redis: ${String(cause)}`, cause });
  });

  return {
    metrics: metrics?.registry,
    async close() {
      await worker.close();
      // Its counts stay in the registry; its queue is no longer there to read.
      if (metrics) metrics.source.queue = undefined;
      await queue.close();
    },
  };
}

/** The paging contract send() relies on (SubscriptionQuery): a store that breaks it would skip or repeat subscribers. */
function keepsPaging(page: StoredSubscription[], limit: number, after: string | undefined): boolean {
  const ordered = page.every((entry, i) => (i === 0 ? after === undefined || entry.id > after : entry.id > page[i - 1]!.id));
  return page.length <= limit && ordered;
}
