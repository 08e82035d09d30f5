import type { SendSlice } from '../controls/planSlices.js';
import type { SendControls } from '../controls/sendControls.js';

/** A slice of a scheduled send, and how far it went. */
export interface PlannedSlice extends SendSlice {
  /** The cursor: the last subscription id of the last page whose pushes are all done. */
  after?: string;
  done?: boolean;
}

/** What a scheduler needs to run a send the store keeps (beside its send-log row, which holds the envelope and audience). JSON. */
export interface SendPlan {
  controls: SendControls;
  /** When the send starts (its `at`, or when it was made): slices after it count their subscribers `deferred`. */
  start: number;
  slices: PlannedSlice[];
}

/**
 * A send waiting for its time in the store (createPushServer({ scheduler: true }) runs it):
 * when it is next due, its plan, and who holds it. A scheduler holds a send by a lease
 * that it renews while it runs it; a lease not renewed (its process died) lapses, and
 * another scheduler takes the send where its plan says it stands.
 */
export interface ScheduledSend {
  id: string;
  /** ms since the epoch. */
  runAt: number;
  plan: SendPlan;
}

/** What `claimScheduledSends` is asked. */
export interface ScheduleClaim {
  /** Due: runAt <= now, and no lease or a lapsed one (leaseUntil < now). */
  now: number;
  /** Who takes them (one scheduler's id). */
  owner: string;
  /** The lease: until when (ms) they are this owner's. */
  leaseUntil: number;
  limit: number;
}

/** A scheduler's write to a send it holds. */
export interface ScheduleUpdate {
  /** A new end of the lease; 0 releases it. */
  leaseUntil: number;
  runAt?: number;
  plan?: SendPlan;
}

/** The store methods a scheduler needs (every built-in store has them). */
export const SCHEDULE_METHODS = ['scheduleSend', 'claimScheduledSends', 'updateScheduledSend', 'deleteScheduledSend'] as const;
