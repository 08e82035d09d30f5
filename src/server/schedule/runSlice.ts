import type { SubscriptionQuery } from '../audience/Audience.js';
import { capPage } from '../controls/capPage.js';
import type { Pacer } from '../controls/createPacer.js';
import { inSlice, sliceQuery, type SendSlice } from '../controls/planSlices.js';
import type { SendControls } from '../controls/sendControls.js';
import type { PreparedMessage, Sender } from '../send/createSender.js';
import type { DeliveryOutcome } from '../send/deliver.js';
import { PAGE_SIZE, subscriptionPages } from '../send/pagedSubscriptions.js';
import type { SendResult } from '../send/sendTypes.js';
import type { StoredSubscription, SubscriptionStore } from '../stores/SubscriptionStore.js';

/** A send's outcome counts, as its send-log row keeps them (the insight contract's SendCounts). */
export interface SliceCounts {
  targeted: number;
  sent: number;
  gone: number;
  failed: number;
  pruned: number;
  capped: number;
  deferred: number;
}

export const noCounts = (): SliceCounts => ({ targeted: 0, sent: 0, gone: 0, failed: 0, pruned: 0, capped: 0, deferred: 0 });

/** How far a slice has gone: what is done up to the cursor, which a process that takes the send over starts from. */
export interface SliceProgress {
  /** The last subscription id of the last page whose every push is done (absent: none yet). */
  after?: string;
  /** The send's counts with every push up to `after` in them. */
  counts: SliceCounts;
}

export interface RunSliceOptions {
  store: SubscriptionStore;
  sender: Sender;
  message: PreparedMessage;
  /** The send's audience. */
  query: SubscriptionQuery;
  slice: SendSlice;
  controls: SendControls;
  /** Where the slice stands (its cursor and the send's counts so far). */
  progress: SliceProgress;
  /** The slice waited past the send's start (local time, quiet hours): its subscribers count as `deferred` too. */
  deferred: boolean;
  now: () => number;
  pacer?: Pacer | undefined;
  /** Aborted: no further push starts (a cancel, a lost lease, a closing process). */
  signal?: AbortSignal | undefined;
  /** Gathers what SendResult reports beside the counts (errors; pruned, counted once for the send). */
  result: SendResult;
  /**
   * Saves progress; called in order, each time the cursor moves past a finished page
   * (`last`: the slice's last page, the end follows), and at the end (`final`).
   */
  commit(progress: SliceProgress, when: { final: boolean; last: boolean }): Promise<void>;
  /** Sees each page as the store gave it (send() tells ids it did not find from it). */
  onRead?(page: StoredSubscription[]): void;
  /** Sees each push's outcome (the send log's tally of push services and failure causes). */
  onOutcome?(entry: StoredSubscription, outcome: DeliveryOutcome): void;
}

interface Page {
  /** Its last subscription id. */
  lastId: string;
  /** A short page: the slice's last. */
  isLast: boolean;
  /** Pushes handed out and not yet finished, plus those still to hand out. */
  pending: number;
  counts: SliceCounts;
}

/**
 * Sends one slice of a send, a page of subscribers at a time, from the cursor on: the
 * slice's subscribers of each page (inSlice), past the frequency cap (capPage, one store
 * write a page), paced (perSecond), the page read ahead while the last one's pushes run.
 * The cursor moves only past pages whose every push is done, with their counts, so a
 * process that takes the send over after a crash resends at most the pages that were in
 * flight (the message keeps its id: browsers show it once) and counts each subscriber once.
 * Resolves with the final progress: every push made counted, the cursor at the last
 * finished page (all of them, unless aborted).
 */
export async function runSlice(options: RunSliceOptions): Promise<SliceProgress> {
  const { store, sender, message, slice, controls, deferred, now, result } = options;
  const committed: SliceProgress = { counts: { ...options.progress.counts } };
  if (options.progress.after !== undefined) committed.after = options.progress.after;
  const pages: Page[] = [];
  const pageOf = new Map<string, Page>();
  const pruned = result.pruned;
  let saving = Promise.resolve();

  /** Folds the finished pages at the head into the cursor, and saves it (in order). */
  const advance = (): Promise<void> => {
    let moved: Page | undefined;
    while (pages.length > 0 && pages[0]!.pending === 0) {
      moved = pages.shift()!;
      add(committed.counts, moved.counts);
      committed.after = moved.lastId;
    }
    if (!moved) return saving;
    committed.counts.pruned = options.progress.counts.pruned + result.pruned - pruned;
    const snapshot = structuredClone(committed);
    const last = moved.isLast;
    return (saving = saving.then(() => options.commit(snapshot, { final: false, last })));
  };

  async function* targets(): AsyncGenerator<StoredSubscription> {
    for await (const read of subscriptionPages(store, sliceQuery(options.query, slice), PAGE_SIZE, committed.after)) {
      if (options.signal?.aborted) return;
      options.onRead?.(read);
      if (read.length === 0) return;
      const members = read.filter((entry) => inSlice(entry, slice));
      const { allowed, capped: refused } = await capPage(store, members, message.envelope.id, controls, now());
      const capped = refused.length;
      const page: Page = {
        lastId: read.at(-1)!.id,
        isLast: read.length < PAGE_SIZE,
        pending: allowed.length,
        counts: { ...noCounts(), capped, targeted: capped },
      };
      pages.push(page);
      for (const entry of allowed) pageOf.set(entry.id, page);
      if (allowed.length === 0) await advance();
      yield* allowed;
    }
  }

  await sender.sendTo(
    message,
    targets(),
    result,
    (entry, outcome) => {
      options.onOutcome?.(entry, outcome);
      const page = pageOf.get(entry.id)!;
      pageOf.delete(entry.id);
      page.counts[outcome.outcome]++;
      page.counts.targeted++;
      if (deferred) page.counts.deferred++;
      page.pending--;
      return page.pending === 0 ? advance() : undefined;
    },
    { pacer: options.pacer, signal: options.signal },
  );
  await saving;
  // Whatever was not finished (an abort) still counts what it did; the cursor stays put.
  const final: SliceProgress = structuredClone(committed);
  for (const page of pages) add(final.counts, page.counts);
  final.counts.pruned = options.progress.counts.pruned + result.pruned - pruned;
  await options.commit(final, { final: true, last: true });
  return final;
}

function add(into: SliceCounts, counts: SliceCounts): void {
  for (const key of Object.keys(into) as (keyof SliceCounts)[]) into[key] += counts[key];
}
