import type { DeliveryOutcome } from '../send/deliver.js';
import type { StoredSubscription } from '../stores/SubscriptionStore.js';
import type { SendUpdate, StoredSend } from '../stores/insightRows.js';
import { pushServiceOf } from './classify.js';
import { failureOf, type FailureCause } from './failureOf.js';
import type { SendFailure, ServiceOutcomes } from './statsTypes.js';

/** What one outcome is counted as: its push service, and for a failure its cause. */
export interface OutcomeFacts {
  service: string;
  failure?: FailureCause;
}

/** The push service and (for a failure) the cause of one push's outcome. */
export function outcomeFacts(entry: StoredSubscription, outcome: DeliveryOutcome): OutcomeFacts {
  const service = pushServiceOf(entry.subscription.endpoint);
  return outcome.outcome === 'failed' ? { service, failure: failureOf(entry.subscription.endpoint, outcome) } : { service };
}

/**
 * A plain send()'s running totals for the send log, kept in this process (the only one
 * sending it): per push service and per failure cause, and who was reached since the last
 * write (their lastSentAt). `update()` gives absolute counts, as the send log wants them:
 * this send's, plus `base` (the row as an earlier send of the same id left it).
 */
export function createSendTally(base?: StoredSend) {
  const services: Record<string, ServiceOutcomes> = {};
  const failures = new Map<string, SendFailure>();
  let reached: string[] = [];
  return {
    /** Counts one push's outcome. */
    add(entry: StoredSubscription, outcome: DeliveryOutcome): void {
      const { service, failure } = outcomeFacts(entry, outcome);
      (services[service] ??= { sent: 0, gone: 0, failed: 0 })[outcome.outcome]++;
      if (outcome.outcome === 'sent') reached.push(entry.id);
      if (!failure) return;
      const key = `${failure.cause} ${failure.host}`;
      const row = failures.get(key);
      if (row) row.count++;
      else failures.set(key, { cause: failure.cause, host: failure.host, count: 1, sample: failure.sample });
    },
    /** The subscriptions reached since the last call. */
    takeReached(): string[] {
      const taken = reached;
      reached = [];
      return taken;
    },
    /** The totals so far, `counts` this send's own, as a send-log update. */
    update(counts: NonNullable<SendUpdate['counts']>): SendUpdate {
      if (!base) return { counts, services: structuredClone(services), failures: [...failures.values()].map((f) => ({ ...f })) };
      const total: NonNullable<SendUpdate['counts']> = {};
      for (const [key, value] of Object.entries(counts) as [keyof typeof counts, number][]) total[key] = value + base[key];
      const allServices: Record<string, ServiceOutcomes> = structuredClone(base.services);
      for (const [service, outcomes] of Object.entries(services)) {
        const row = (allServices[service] ??= { sent: 0, gone: 0, failed: 0 });
        row.sent += outcomes.sent;
        row.gone += outcomes.gone;
        row.failed += outcomes.failed;
      }
      const allFailures = base.failures.map((f) => ({ ...f }));
      for (const failure of failures.values()) {
        const row = allFailures.find((f) => f.cause === failure.cause && f.host === failure.host);
        if (row) row.count += failure.count;
        else allFailures.push({ ...failure });
      }
      return { counts: total, services: allServices, failures: allFailures };
    },
  };
}
