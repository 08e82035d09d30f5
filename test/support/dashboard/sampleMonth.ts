// TEST SUPPORT: a plausible month of a small site, written into a real store so the
// dashboard reads it through the real stats (push.stats over that store): six sends with
// their outcomes and failures, and the signed events of a few dozen browsers across push
// services and browser families. The browsers are removed afterwards, as browsers leave:
// their figures stay in the rollups, and a send from the page reaches only the site's
// real subscribers.
import type { SubscriptionStore } from '../../../src/server/index.js';

const HOUR = 3_600_000;

export const sampleTitles = ['Your order has shipped', 'New reply in "Weekend plans"', 'Flash sale: 20% off today', 'Weekly digest', 'Server maintenance tonight', 'Welcome aboard'];

const browsers = [
  ['fcm.googleapis.com', 'chrome'],
  ['fcm.googleapis.com', 'edge'],
  ['updates.push.services.mozilla.com', 'firefox'],
  ['web.push.apple.com', 'safari'],
] as const;

/** Writes the sample month into `store`; resolves to the send ids, newest first (msg-0 … msg-5). */
export async function seedSampleMonth(store: SubscriptionStore, now = Date.now(), browsersPerKind = 12): Promise<string[]> {
  const subscriptions: { id: string; host: string }[] = [];
  for (let i = 0; i < browsers.length * browsersPerKind; i++) {
    const [host, browser] = browsers[i % browsers.length]!;
    const { id } = await store.saveSubscription(
      { subscription: { endpoint: `https://${host}/sample/${i}`, keys: { p256dh: `p${i}`, auth: `a${i}` } } },
      () => ({ attributes: { team: ['red', 'blue', 'green'][i % 3]! }, browser }),
    );
    subscriptions.push({ id, host });
  }
  const ids: string[] = [];
  for (const [i, title] of sampleTitles.entries()) {
    const id = `msg-${i}`;
    const createdAt = now - (i + 1) * 26 * HOUR;
    const reached = subscriptions.slice(i);
    const failed = subscriptions.slice(0, i);
    await store.createSend({
      id,
      title,
      url: `/articles/${40 + i}`,
      envelope: { v: 1, id, notification: { title, body: 'Tap to read more.', url: `/articles/${40 + i}` } },
      audience: i % 2 ? { attributes: { team: 'red' } } : null,
      options: { ttl: 86_400 },
      by: i % 2 ? 'ann@example.com' : 'bob@example.com',
      via: i % 3 ? 'send' : 'queue',
      state: 'running',
      createdAt,
      startedAt: createdAt,
      targeted: 0,
      sent: 0,
      gone: 0,
      failed: 0,
      pruned: 0,
      capped: 0,
      deferred: 0,
      failures: [],
    });
    await store.updateSend(id, {
      state: 'done',
      finishedAt: createdAt + 40_000,
      counts: { targeted: subscriptions.length, sent: reached.length, failed: failed.length },
      services: { fcm: { sent: reached.filter((s) => s.host.startsWith('fcm')).length, failed: failed.length } },
      failures: failed.length ? [{ cause: 'http-5xx', host: 'fcm.googleapis.com', count: failed.length, sample: '503 Service Unavailable' }] : [],
    });
    for (const [n, { id: subscriptionId }] of reached.entries()) {
      const at = createdAt + 60_000 + n * 1000;
      const events = [
        { id: `${id}-${n}-d`, type: 'delivered' as const, messageId: id, at },
        ...(n % 12 === 11 ? [] : [{ id: `${id}-${n}-s`, type: 'shown' as const, messageId: id, at: at + 500 }]),
        ...(n % 9 === i % 9 ? [{ id: `${id}-${n}-c`, type: 'clicked' as const, messageId: id, at: at + 20_000 }] : []),
        ...(n % 7 === 3 ? [{ id: `${id}-${n}-x`, type: 'closed' as const, messageId: id, at: at + 30_000 }] : []),
      ];
      await store.recordEvents({ subscriptionId, countSince: 0, events });
    }
    ids.push(id);
  }
  await store.deleteSubscriptions({ ids: subscriptions.map((s) => s.id) });
  return ids;
}
