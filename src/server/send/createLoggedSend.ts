import type { Envelope } from '../../shared/protocol.js';
import { toSubscriptionQuery } from '../audience/toSubscriptionQuery.js';
import { storeOption } from '../common/checkOptions.js';
import type { FrequencyCap } from '../controls/frequencyCap.js';
import { planSlices } from '../controls/planSlices.js';
import { checkSendControls, isScheduled } from '../controls/sendControls.js';
import { runLoggedSlices } from '../schedule/runLoggedSlices.js';
import { SCHEDULE_METHODS } from '../schedule/scheduleTypes.js';
import type { Reporter } from '../stats/createReporter.js';
import { checkBy, sendRecordOf } from '../stats/sendRecordOf.js';
import type { SubscriptionStore } from '../stores/SubscriptionStore.js';
import type { Sender } from './createSender.js';
import type { SendOptions, SendResult } from './sendTypes.js';

export interface LoggedSendOptions {
  store: SubscriptionStore;
  sender: Sender;
  /** Where a send-log write that failed mid-send is reported (the send goes on). */
  onError: (error: unknown) => void;
  report: Reporter;
  /** The push object's clock. */
  now: () => number;
  /** createPushServer's `cap`. */
  defaultCap: FrequencyCap | undefined;
  /** The sends running in this process, so that cancel() stops one here at once. */
  running: Map<string, AbortController>;
  /** Told of each send this creates in the log, with the state it begins in (the metrics). */
  onCreated?: ((state: 'running' | 'scheduled') => void) | undefined;
}

/**
 * `push.send()`, recorded in the send log. A send that goes now runs here: its row is
 * written when it starts (before any push), once per page after (absolute counts, and who
 * was reached), and when it ends (done, or failed with the error); an envelope id already
 * in the log (a retried send) adds to that row. A send that waits (`at`, `localTime`,
 * `quietHours`) is written as a `scheduled` row and kept in the store with its plan, and
 * send() returns at once: a scheduler (createPushServer({ scheduler: true })) runs it.
 */
export function createLoggedSend({ store, sender, onError, report, now, defaultCap, running, onCreated }: LoggedSendOptions) {
  return async function send(message: Envelope, sendOptions: SendOptions = {}): Promise<SendResult> {
    const prepared = sender.prepare(message, sendOptions);
    const by = checkBy(sendOptions.by);
    const query = toSubscriptionQuery(sendOptions.to);
    const controls = checkSendControls(sendOptions, now(), defaultCap);
    if (controls.cap) storeOption(store, ['capSends']);
    const { id } = prepared.envelope;
    const result: SendResult = { id, sent: 0, gone: 0, failed: 0, pruned: 0, errors: [] };

    if (isScheduled(controls)) {
      storeOption(store, [...SCHEDULE_METHODS]);
      const start = controls.at ?? now();
      const slices = planSlices(controls, start);
      const record = sendRecordOf(prepared, sendOptions, query, { via: 'send', state: 'scheduled', now: now(), by });
      record.scheduledAt = slices[0]!.at;
      // The row first: a call retried after a crash between the two writes finds it and keeps the send.
      if (await store.createSend(record)) onCreated?.('scheduled');
      await store.scheduleSend({ id, runAt: slices[0]!.at, plan: { controls, start, slices } });
      result.scheduledAt = slices[0]!.at;
      return result;
    }

    const started = now();
    const record = sendRecordOf(prepared, sendOptions, query, { via: 'send', state: 'running', now: started, by });
    const created = await store.createSend(record);
    if (created) onCreated?.('running');
    const base = created ? undefined : await store.getSend(id);
    const seen = new Set<string>();
    const controller = new AbortController();
    running.set(id, controller);
    const run = await runLoggedSlices({
      store,
      sender,
      report,
      onError,
      now,
      message: prepared,
      query,
      plan: { controls, start: started, slices: [{ at: started }] },
      row: base,
      controller,
      result,
      onRead: (page) => query.ids && page.forEach((entry) => seen.add(entry.id)),
    }).finally(() => running.delete(id));
    if (run.error !== undefined) {
      const { error } = run;
      await run.finish({ state: 'failed', finishedAt: now(), error: String((error as Error)?.message ?? error) }).catch(onError);
      throw error;
    }
    // A cancelled send keeps its state: a final state never changes.
    await run.finish({ state: 'done', finishedAt: now() }).catch(onError);
    if (controls.cap) result.capped = run.counts.capped;
    // A send to ids that reached nobody should say why, not just {sent: 0}.
    if (query.ids) result.unknown = [...new Set(query.ids)].filter((id) => !seen.has(id));
    return result;
  };
}
