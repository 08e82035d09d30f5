import type { Envelope } from '../../shared/protocol.js';
import type { ComposeOptions, SendAnswer } from '../protocol.js';
import type { DashboardPush, DashboardQueue } from '../dashboardTypes.js';
import type { SendTarget } from '../statsContract.js';

/** An audience's size, or null when the push object cannot count. `undefined`: everyone. */
export async function countAudience(push: DashboardPush, to: SendTarget | undefined): Promise<number | null> {
  return push.count ? push.count(to) : null;
}

/**
 * Sends through the queue when there is one (it answers at once with the id; progress
 * is read from it), else through `push.send`, whose outcome the answer carries (a plain
 * send finishes before it answers; a scheduled one, issue 21's `at`, answers at once with
 * when it is due).
 * `by` is who `authorize` said is looking, never anything from the request body.
 */
export async function sendMessage(
  push: DashboardPush,
  queue: DashboardQueue | undefined,
  envelope: Envelope,
  to: SendTarget | undefined,
  options: ComposeOptions,
  by: string,
): Promise<SendAnswer> {
  const sendOptions: Record<string, unknown> = { ...options, by };
  if (to !== undefined) sendOptions.to = to;
  if (queue) {
    const { id } = await queue.send(envelope, sendOptions);
    return { id, via: 'queue' };
  }
  const outcome = (await push.send(envelope, sendOptions)) as { id: string; sent?: unknown; gone?: unknown; failed?: unknown; pruned?: unknown; scheduledAt?: unknown };
  const answer: SendAnswer = { id: outcome.id, via: 'send' };
  // A send that waits answered at once: it has no outcome yet.
  if (typeof outcome.scheduledAt === 'number') answer.scheduledAt = outcome.scheduledAt;
  else if (typeof outcome.sent === 'number' && typeof outcome.gone === 'number' && typeof outcome.failed === 'number') {
    answer.result = { sent: outcome.sent, gone: outcome.gone, failed: outcome.failed };
    if (typeof outcome.pruned === 'number') answer.result.pruned = outcome.pruned;
  }
  return answer;
}
