import type { SubscriptionQuery } from '../audience/Audience.js';
import { newId } from '../crypto/newId.js';
import type { Sender } from '../send/createSender.js';
import type { SendOptions, SendResult } from '../send/sendTypes.js';
import type { Reporter } from '../stats/createReporter.js';
import { SEND_QUIET_MS } from '../stats/overdueSince.js';
import { FINAL_STATES } from '../stores/insightRows.js';
import type { SubscriptionStore } from '../stores/SubscriptionStore.js';
import { runLoggedSlices } from './runLoggedSlices.js';
import type { ScheduledSend } from './scheduleTypes.js';

export interface SchedulerOptions {
  store: SubscriptionStore;
  sender: Sender;
  report: Reporter;
  onError(error: unknown): void;
  now(): number;
  /** The sends running in this process (cancel() aborts them here). */
  running: Map<string, AbortController>;
  /** ms between looks for due sends. */
  pollInterval: number;
  /** ms a lease lasts unless renewed: how long a send held by a process that died waits before another takes it. */
  lease: number;
  /** Sends this process runs at once. */
  parallel: number;
}

export interface Scheduler {
  /** Looks for due sends now (the timer does it every pollInterval). */
  tick(): Promise<void>;
  /** Stops looking, stops the sends it runs after their pushes in flight, and hands them back (their leases released) for another process to take. */
  close(): Promise<void>;
}

/** After a run that failed (the store down), the send is looked at again this much later. */
const RETRY_DELAY = 30_000;

/**
 * Runs the store's due scheduled sends in this process. Any number of processes may run
 * one: each send is held by one at a time (claimScheduledSends, a lease renewed every
 * third of its length while the send runs); a process that dies stops renewing, and once
 * the lease lapses another process takes the send where its plan's cursor stands (the
 * pages in flight are sent again: the message keeps its id, so browsers show it once).
 * A slice that waits (local time, quiet hours) leaves the send in the store until due.
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { store, now, lease, onError, running } = options;
  const owner = newId();
  const mine = new Map<string, AbortController>();
  const runs = new Set<Promise<void>>();
  let closed = false;
  let looking: Promise<void> | undefined;

  const tick = (): Promise<void> => {
    if (closed) return Promise.resolve();
    looking ??= (async () => {
      const free = options.parallel - runs.size;
      if (free <= 0) return;
      const at = now();
      for (const send of await store.claimScheduledSends({ now: at, owner, leaseUntil: at + lease, limit: free })) {
        // Its lease lapsed while this process still runs it (a clock moved on): it is still ours.
        if (mine.has(send.id)) continue;
        const run: Promise<void> = runScheduled(send)
          .catch(onError)
          .finally(() => runs.delete(run));
        runs.add(run);
      }
    })()
      .catch(onError)
      .finally(() => (looking = undefined));
    return looking;
  };

  const hold = (id: string, update: Parameters<SubscriptionStore['updateScheduledSend']>[2]) => store.updateScheduledSend(id, owner, update);

  async function runScheduled({ id, plan }: ScheduledSend): Promise<void> {
    const row = await store.getSend(id);
    if (!row || FINAL_STATES.includes(row.state)) {
      await store.deleteScheduledSend(id);
      return;
    }
    if (closed) {
      await hold(id, { leaseUntil: 0 });
      return;
    }
    const controller = new AbortController();
    mine.set(id, controller);
    running.set(id, controller);
    // The lease is renewed while the send runs, between pages too (a throttled page takes long).
    const renewal = setInterval(() => {
      hold(id, { leaseUntil: now() + lease }).then((held) => held || controller.abort(), onError);
    }, Math.max(50, Math.floor(lease / 3)));
    try {
      // What was sent: the row keeps the envelope as validated and the options as given.
      const message = options.sender.prepare(row.envelope, row.options as SendOptions);
      if (row.state === 'scheduled') await store.updateSend(id, { state: 'running', startedAt: now(), nextWriteBy: now() + SEND_QUIET_MS });
      const result: SendResult = { id, sent: 0, gone: 0, failed: 0, pruned: 0, errors: [] };
      const run = await runLoggedSlices({
        store,
        sender: options.sender,
        report: options.report,
        onError,
        now,
        message,
        query: (row.audience ?? {}) as SubscriptionQuery,
        plan,
        row,
        controller,
        result,
        saveProgress: (progress) => hold(id, { leaseUntil: now() + lease, plan: progress }),
      });
      const next = plan.slices.find((slice) => !slice.done);
      if (run.error !== undefined) {
        onError(run.error);
        await run.finish({ nextWriteBy: now() + RETRY_DELAY + SEND_QUIET_MS });
        await hold(id, { leaseUntil: 0, runAt: now() + RETRY_DELAY, plan });
      } else if (controller.signal.aborted || next) {
        // Cancelled (its row says so, and it is kept no more), handed back, or waiting for its next slice.
        await run.finish(next && !controller.signal.aborted ? { nextWriteBy: next.at + SEND_QUIET_MS } : {});
        await hold(id, { leaseUntil: 0, plan, ...(next && !controller.signal.aborted ? { runAt: next.at } : {}) });
      } else {
        await run.finish({ state: 'done', finishedAt: now() });
        await store.deleteScheduledSend(id);
      }
    } finally {
      clearInterval(renewal);
      mine.delete(id);
      if (running.get(id) === controller) running.delete(id);
    }
  }

  const timer = setInterval(() => void tick(), options.pollInterval);
  // A script that schedules and exits is not kept alive by its own scheduler.
  timer.unref?.();
  void tick();

  return {
    tick,
    async close() {
      closed = true;
      clearInterval(timer);
      for (const controller of mine.values()) controller.abort();
      await looking;
      await Promise.all([...runs]);
    },
  };
}
