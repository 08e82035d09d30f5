import type { ScheduledSend } from '../../schedule/scheduleTypes.js';
import type { SubscriptionStore } from '../SubscriptionStore.js';

type ScheduleMethods = Pick<SubscriptionStore, 'scheduleSend' | 'claimScheduledSends' | 'updateScheduledSend' | 'deleteScheduledSend'>;

/** memoryStore's kept sends: one process, so a claim needs no lock; leases still lapse as in the others. */
export function memorySchedule(): ScheduleMethods {
  const kept = new Map<string, ScheduledSend & { owner?: string; leaseUntil: number }>();
  return {
    async scheduleSend(send) {
      if (kept.has(send.id)) return false;
      kept.set(send.id, { ...structuredClone(send), leaseUntil: 0 });
      return true;
    },
    async claimScheduledSends({ now, owner, leaseUntil, limit }) {
      const due = [...kept.values()].filter((send) => send.runAt <= now && send.leaseUntil < now).sort((a, b) => a.runAt - b.runAt || (a.id < b.id ? -1 : 1));
      return due.slice(0, limit).map((send) => {
        Object.assign(send, { owner, leaseUntil });
        return { id: send.id, runAt: send.runAt, plan: structuredClone(send.plan) };
      });
    },
    async updateScheduledSend(id, owner, { leaseUntil, runAt, plan }) {
      const send = kept.get(id);
      if (!send || send.owner !== owner) return false;
      send.leaseUntil = leaseUntil;
      if (runAt !== undefined) send.runAt = runAt;
      if (plan !== undefined) send.plan = structuredClone(plan);
      return true;
    },
    async deleteScheduledSend(id) {
      return kept.delete(id);
    },
  };
}
