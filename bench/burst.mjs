// Burst: many pushes back to back, as after a device comes back online. Counts what was
// shown, what stayed visible (a shared tag keeps one), and the analytics the tidings worker
// sent to its backend: every message accounted for, in few requests.
import { envelope } from './latency.mjs';
import { ratio } from './stats.mjs';

const BATCH_SIZE = 20; // the tidings worker's default analytics batch (DESIGN.md)

/** Resolves once `read()` has not changed for `quietMs`, or after `timeoutMs`. */
async function settle(read, quietMs = 2_000, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = read();
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < quietMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = read();
    if (next !== last) [last, since] = [next, Date.now()];
  }
}

/** One burst of `count` pushes to `scope`; `backend` names the analytics route, if any. */
async function burstOnce(session, { scope, backend, tag, count }) {
  const run = `${tag ? 'tag' : 'notag'}-${Date.now()}`;
  const payloads = Array.from({ length: count }, (_, i) =>
    envelope(`${run}-${i}`, tag ? { notification: { title: `Burst ${i}`, body: 'Bench', tag } } : {}),
  );
  await session.clearNotifications(scope);
  const { shown, ms } = await session.burst(scope, payloads);
  const row = { pushes: count, shown, ms: ms && Math.round(ms), visible: (await session.notifications(scope)).length };
  await session.leave();
  if (backend) {
    const received = session.backend(backend);
    await settle(() => received.events.length);
    const ids = new Set(received.events.map((e) => e.messageId).filter((id) => id?.startsWith(run)));
    Object.assign(row, {
      analyticsRequests: received.requests,
      // Two events a push (delivered, shown): DESIGN's ceil(2 x n / batch).
      analyticsBudget: Math.ceil((2 * count) / BATCH_SIZE),
      events: received.events.length,
      eventTypes: received.events.reduce((counts, e) => ({ ...counts, [e.type]: (counts[e.type] ?? 0) + 1 }), {}),
      eventsLost: received.events.length ? count - ids.size : null,
    });
    if (!received.events.length) row.pending = 'the tidings worker sent no analytics events (its backend option has not landed)';
  }
  return row;
}

/** Tidings and the floor, each without and with a shared tag. `workers` holds the installed scopes. */
export async function burst(session, workers, count) {
  const rows = {
    'tidings, no tag': await burstOnce(session, { scope: workers.tidingsBurst, backend: 'burst', count }),
    'floor, no tag': await burstOnce(session, { scope: workers.floorBurst, count }),
    'tidings, one tag': await burstOnce(session, { scope: workers.tidingsBurstTag, backend: 'burst-tag', tag: 'burst', count }),
    'floor, one tag': await burstOnce(session, { scope: workers.floorBurst, tag: 'burst', count }),
  };
  rows['tidings, no tag'].ratio = ratio(rows['tidings, no tag'].ms, rows['floor, no tag'].ms);
  rows['tidings, one tag'].ratio = ratio(rows['tidings, one tag'].ms, rows['floor, one tag'].ms);
  return rows;
}
