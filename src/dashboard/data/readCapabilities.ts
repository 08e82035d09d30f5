import { invalidOption as invalid } from '../../server/common/checkOptions.js';
import { CONTROLS, type Capabilities, type Control } from '../protocol.js';
import type { DashboardPush, DashboardQueue } from '../dashboardTypes.js';
import type { PushStats } from '../statsContract.js';

const STATS_METHODS = ['message', 'messages', 'timeline', 'subscribers', 'subscriptions'] as const;

/**
 * What the push object (and queue) can do, read once from what they have: each part of
 * the dashboard is shown only when the member it needs is there. Nothing is inferred
 * from a version or assumed from another member, except where noted.
 */
export function readCapabilities(push: DashboardPush, queue: DashboardQueue | undefined): Capabilities & { statsSource?: PushStats } {
  if (!push || typeof push.send !== 'function') invalid('push', 'must be a push server (createPushServer) with send()');
  if (queue !== undefined && (typeof queue?.send !== 'function' || typeof queue.status !== 'function' || typeof queue.stats !== 'object' || queue.stats === null)) {
    invalid('queue', 'must be a send queue (createSendQueue) with send(), status() and stats');
  }
  // The push server's and the queue's stats read the same send log (the insight contract).
  const statsSource = push.stats ?? queue?.stats;
  if (statsSource !== undefined) {
    for (const method of STATS_METHODS) {
      if (typeof statsSource[method] !== 'function') invalid('push.stats', `has no ${method}()`);
    }
  }
  const sender = queue ?? push;
  const declared = Array.isArray(sender.controls) ? sender.controls : [];
  const count = typeof push.count === 'function';
  const capabilities: Capabilities & { statsSource?: PushStats } = {
    stats: statsSource !== undefined,
    count,
    // The richer audiences (lists, any, not, present) and count() are one piece of work
    // (issue 21's audiences): a push object with count() takes them.
    richAudiences: count,
    queue: queue !== undefined,
    progress: queue !== undefined || typeof push.status === 'function',
    cancel: queue !== undefined ? typeof queue.cancel === 'function' : typeof push.cancel === 'function',
    controls: CONTROLS.filter((control: Control) => declared.includes(control)),
  };
  if (statsSource) capabilities.statsSource = statsSource;
  return capabilities;
}
