// Push -> notification, and worker cold start: contenders take turns push by push, the
// order rotating each round, so drift on a busy machine falls on all of them alike.
import { ratio, summarize } from './stats.mjs';

/** Envelope for tidings and the floor (the floor reads `notification` the same way). */
export const envelope = (id, extra = {}) => JSON.stringify({ v: 1, id, notification: { title: `Message ${id}`, body: 'Bench' }, ...extra });
/** What FCM hands a Firebase worker for a notification message. */
export const fcmMessage = (id) =>
  JSON.stringify({ notification: { title: `Message ${id}`, body: 'Bench' }, data: { id }, from: '000000000000', fcmMessageId: id });

/**
 * Pushes to each contender `rounds` times, rotating the order; `prepare(contender)` runs
 * before each push (the cold start stops the workers there). Returns samples per contender.
 */
export async function interleave(session, contenders, rounds, prepare = async () => {}) {
  const samples = new Map(contenders.map((c) => [c.name, { ms: [], handledMs: [], lost: 0, titles: new Set() }]));
  const scopes = [...new Set(contenders.map((c) => c.scope))];
  for (let round = 0; round < rounds; round++) {
    // Shown notifications pile up; closing them now and then keeps each round like the first.
    if (round % 50 === 0) for (const scope of scopes) await session.clearNotifications(scope);
    for (let k = 0; k < contenders.length; k++) {
      const contender = contenders[(round + k) % contenders.length];
      await prepare(contender);
      const result = await session.timePush(contender.scope, contender.payload(`${contender.name}-${round}-${Date.now()}`));
      const s = samples.get(contender.name);
      if (!result) s.lost += 1;
      else {
        s.ms.push(result.ms);
        s.handledMs.push(result.handledMs);
        s.titles.add(result.title);
      }
    }
  }
  return samples;
}

/** Summaries per contender, each with its ratio to `baseline`'s median. */
export function report(samples, baseline) {
  const base = samples.get(baseline);
  const rows = {};
  for (const [name, s] of samples) {
    const total = summarize(s.ms);
    const handled = summarize(s.handledMs);
    rows[name] = {
      total,
      handled,
      lost: s.lost,
      ratio: ratio(total.median, summarize(base.ms).median),
      handledRatio: ratio(handled.median, summarize(base.handledMs).median),
    };
  }
  return rows;
}

/** Push -> notification shown, warm workers, `rounds` pushes each after a short warm-up. */
export async function pushToNotification(session, contenders, rounds) {
  await interleave(session, contenders, Math.min(10, rounds));
  return report(await interleave(session, contenders, rounds), 'floor');
}

/** Cold start: every push goes to a stopped worker, so it pays for starting and evaluating the script. */
export async function coldStart(session, contenders, rounds) {
  return report(await interleave(session, contenders, rounds, () => session.stopWorkers()), 'floor');
}
