import type { SubscriptionQuery } from '../audience/Audience.js';
import { createPacer, localBooking, type Pacer } from '../controls/createPacer.js';
import type { PreparedMessage, Sender } from '../send/createSender.js';
import type { SendResult } from '../send/sendTypes.js';
import { finishedEvent, type Reporter } from '../stats/createReporter.js';
import { createSendTally } from '../stats/createSendTally.js';
import { SEND_HEARTBEAT_MS, SEND_QUIET_MS } from '../stats/overdueSince.js';
import type { SendUpdate, StoredSend } from '../stores/insightRows.js';
import type { StoredSubscription, SubscriptionStore } from '../stores/SubscriptionStore.js';
import { noCounts, runSlice, type SliceCounts } from './runSlice.js';
import type { PlannedSlice, SendPlan } from './scheduleTypes.js';

export interface LoggedSlicesOptions {
  store: SubscriptionStore;
  sender: Sender;
  report: Reporter;
  /** Where a send-log write that failed mid-send goes (the send goes on). */
  onError(error: unknown): void;
  now(): number;
  message: PreparedMessage;
  query: SubscriptionQuery;
  /** The send's plan: its controls and slices; each slice run here moves its cursor and is marked done. */
  plan: SendPlan;
  /** The send-log row as it stood when this run began: its counts are the base this run adds to. */
  row: StoredSend | undefined;
  /** Aborted, no further push starts: a cancel, a lease lost, a process closing. */
  controller: AbortController;
  result: SendResult;
  /** How this run's pushes are throttled (perSecond): the queue's shared slots; by default this process's own. */
  pacer?: Pacer | undefined;
  /** Keeps the plan's progress (the scheduler, with its lease): false means this run no longer holds the send. */
  saveProgress?(plan: SendPlan): Promise<boolean>;
  onRead?(page: StoredSubscription[]): void;
}

/**
 * Runs the slices of a send that are due (in order), writing the send log as it goes:
 * once per finished page (absolute counts, push services and failure causes, who was
 * reached), the cursor kept by `saveProgress` at the same moments. A row the log says is
 * `cancelled` (whoever cancelled it, in whatever process) stops the run at its next page.
 * Resolves with this run's own counts, and `finish` to write them with the send's
 * final state (or whatever else the caller decides).
 */
export async function runLoggedSlices(options: LoggedSlicesOptions): Promise<LoggedRun> {
  const { store, plan, message, controller, now } = options;
  const { id } = message.envelope;
  const tally = createSendTally(options.row);
  const own = noCounts();
  const { perSecond } = plan.controls;
  const pacer = options.pacer ?? (perSecond ? createPacer(localBooking(perSecond), Math.min(perSecond, 100)) : undefined);

  const finish = (update: SendUpdate) => write(own, update).then(() => undefined);
  const runOne = (slice: PlannedSlice) =>
    runSlice({
      store,
      sender: options.sender,
      message,
      query: options.query,
      slice,
      controls: plan.controls,
      progress: slice.after === undefined ? { counts: noCounts() } : { after: slice.after, counts: noCounts() },
      deferred: slice.at > plan.start,
      now,
      pacer,
      signal: controller.signal,
      result: options.result,
      onRead: options.onRead,
      onOutcome: (entry, outcome) => tally.add(entry, outcome),
      commit: async (progress, { final, last }) => {
        if (progress.after !== undefined) slice.after = progress.after;
        // The slice's end is written by the caller (finish), with the state it ends in.
        if (final || last) return;
        const written = await write(sum(own, progress.counts)).catch((error: unknown) => options.onError(error));
        if (written?.state === 'cancelled') controller.abort();
        if (options.saveProgress && !(await options.saveProgress(plan))) controller.abort();
      },
    });

  // A sign of life between pages (a throttled page can take minutes), so that a row whose
  // process stopped can be told from one that is slow (overdueSince); it also hears a cancel.
  const heartbeat = setInterval(() => {
    store.updateSend(id, { nextWriteBy: now() + SEND_QUIET_MS }).then((written) => {
      if (written?.send.state === 'cancelled') controller.abort();
    }, options.onError);
  }, SEND_HEARTBEAT_MS);
  heartbeat.unref?.();
  try {
    for (const slice of plan.slices) {
      if (slice.done || slice.at > now() || controller.signal.aborted) continue;
      try {
        add(own, (await runOne(slice)).counts);
      } catch (error) {
        // The store failed mid-slice (or its pages broke their contract): the caller decides.
        return { counts: own, finish, error };
      }
      if (!controller.signal.aborted) slice.done = true;
    }
  } finally {
    clearInterval(heartbeat);
  }
  return { counts: own, finish };

  async function write(counts: SliceCounts, extra: SendUpdate = {}): Promise<StoredSend | undefined> {
    const reached = tally.takeReached();
    const [updated] = await Promise.all([
      store.updateSend(id, { ...tally.update(counts), nextWriteBy: now() + SEND_QUIET_MS, ...extra }),
      reached.length > 0 ? store.markSent(reached, now()) : undefined,
    ]);
    if (updated?.finished) options.report(finishedEvent(updated.send));
    return updated?.send;
  }
}

export interface LoggedRun {
  /** This run's own counts (the row's from before not included): of its finished slices. */
  counts: SliceCounts;
  /** What stopped the run, when something failed (the store, a page); the slice it was in stays where its cursor is. */
  error?: unknown;
  /** Writes the counts (with the row's from before) and `update` (a state, its time) into the send log. */
  finish(update: SendUpdate): Promise<void>;
}

function sum(a: SliceCounts, b: SliceCounts): SliceCounts {
  const out = { ...a };
  add(out, b);
  return out;
}

function add(into: SliceCounts, counts: SliceCounts): void {
  for (const key of Object.keys(into) as (keyof SliceCounts)[]) into[key] += counts[key];
}
