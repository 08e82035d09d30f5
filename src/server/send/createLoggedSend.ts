import type { Envelope } from '../../shared/protocol.js';
import { toSubscriptionQuery } from '../audience/toSubscriptionQuery.js';
import { createSendTally } from '../stats/createSendTally.js';
import { finishedEvent, type Reporter } from '../stats/createReporter.js';
import { checkBy, sendRecordOf } from '../stats/sendRecordOf.js';
import type { SendUpdate, StoredSend } from '../stores/insightRows.js';
import type { SubscriptionStore } from '../stores/SubscriptionStore.js';
import type { Sender } from './createSender.js';
import { PAGE_SIZE, pagedSubscriptions } from './pagedSubscriptions.js';
import type { SendOptions, SendResult } from './sendTypes.js';

export interface LoggedSendOptions {
  store: SubscriptionStore;
  sender: Sender;
  /** Where a send-log write that failed mid-send is reported (the send goes on). */
  onError: (error: unknown) => void;
  report: Reporter;
}

/**
 * `push.send()`: the send loop over the store's pages, recorded in the send log. The row
 * is written when the send starts (before any push), once per page after (absolute
 * counts, and who was reached), and when it ends (done, or failed with the error). An
 * envelope id already in the log (a retried send) adds to that row: its counts so far
 * are the base this send counts from.
 */
export function createLoggedSend({ store, sender, onError, report }: LoggedSendOptions) {
  return async function send(message: Envelope, sendOptions: SendOptions = {}): Promise<SendResult> {
    const prepared = sender.prepare(message, sendOptions);
    const by = checkBy(sendOptions.by);
    const query = toSubscriptionQuery(sendOptions.to);
    const { id } = prepared.envelope;
    const record = sendRecordOf(prepared, sendOptions, query, { via: 'send', state: 'running', now: Date.now(), by });
    const base = (await store.createSend(record)) ? undefined : await store.getSend(id);
    const tally = createSendTally(base);
    const result: SendResult = { id, sent: 0, gone: 0, failed: 0, pruned: 0, errors: [] };
    let targeted = 0;

    const counts = () => ({ targeted, sent: result.sent, gone: result.gone, failed: result.failed, pruned: result.pruned });
    const write = async (update: SendUpdate): Promise<StoredSend | undefined> => {
      const reached = tally.takeReached();
      const [updated] = await Promise.all([store.updateSend(id, update), reached.length > 0 ? store.markSent(reached, Date.now()) : undefined]);
      if (updated?.finished) report(finishedEvent(updated.send));
      return updated?.send;
    };

    const seen = new Set<string>();
    async function* targets() {
      for await (const entry of pagedSubscriptions(store, query)) {
        // Once per page: what the pushes handed out so far have come to. A row cancelled
        // meanwhile (issue 21's push.cancel) stops the send here, between pages.
        if (targeted > 0 && targeted % PAGE_SIZE === 0) {
          const row = await write(tally.update(counts())).catch(onError);
          if (row?.state === 'cancelled') return;
        }
        targeted++;
        if (query.ids) seen.add(entry.id);
        yield entry;
      }
    }
    try {
      await sender.sendTo(prepared, targets(), result, (entry, outcome) => tally.add(entry, outcome));
    } catch (error) {
      await write({ ...tally.update(counts()), state: 'failed', finishedAt: Date.now(), error: String((error as Error)?.message ?? error) }).catch(onError);
      throw error;
    }
    await write({ ...tally.update(counts()), state: 'done', finishedAt: Date.now() }).catch(onError);
    // A send to ids that reached nobody should say why, not just {sent: 0}.
    if (query.ids) result.unknown = [...new Set(query.ids)].filter((id) => !seen.has(id));
    return result;
  };
}
