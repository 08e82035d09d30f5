import type { Queue } from 'bullmq';
import type { QueueDepth } from '../server/metrics/createMetricsSource.js';

/**
 * A queue's batches by state, and how long the oldest waiting one has waited since it was
 * due (queued, or its delay ran out): two Redis calls, made when the metrics are scraped.
 * Waiting includes batches of a paused queue (none wait for a sender then).
 */
export async function queueDepth(queue: Queue, now = Date.now()): Promise<QueueDepth> {
  const counts = await queue.getJobCounts('wait', 'paused', 'prioritized', 'delayed', 'active', 'failed');
  // BullMQ pushes new jobs at the head of the wait list and senders take from its tail:
  // in ascending order, the first is the oldest.
  const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
  const due = oldest ? oldest.timestamp + (oldest.delay ?? 0) : now;
  return {
    waiting: (counts.wait ?? 0) + (counts.paused ?? 0) + (counts.prioritized ?? 0),
    delayed: counts.delayed ?? 0,
    active: counts.active ?? 0,
    failed: counts.failed ?? 0,
    oldestWaitingSeconds: Math.max(0, now - due) / 1000,
  };
}
