import type { Engagement, OverviewData, Range, TimelinePoint } from '../protocol.js';
import type { DashboardPush } from '../dashboardTypes.js';
import type { PushStats } from '../statsContract.js';

const DAY = 86_400_000;

/** Each range of the overview's charts: how far back, in which buckets. */
const spans: Record<Range, { ms: number; bucket: 'hour' | 'day' }> = {
  '2d': { ms: 2 * DAY, bucket: 'hour' },
  '7d': { ms: 7 * DAY, bucket: 'day' },
  '30d': { ms: 30 * DAY, bucket: 'day' },
  '90d': { ms: 90 * DAY, bucket: 'day' },
};

/**
 * Fewer notifications shown than this in a period and its rates say little: no warning.
 * (A site that showed 20 and got no click is not yet where Chrome acts.)
 */
export const MIN_SHOWN = 100;

/** The overview: subscribers now and per day, the timeline of the range, engagement over 7 and 30 days. */
export async function overviewData(
  push: DashboardPush,
  stats: PushStats | undefined,
  range: Range,
  now: number,
  warnBelow: number,
): Promise<OverviewData> {
  if (!stats) {
    // No send log: the one figure left is how many subscriptions there are, when count() can say.
    const data: OverviewData = { range, minShown: MIN_SHOWN };
    if (push.count) data.subscribers = { total: await push.count(undefined) };
    return data;
  }
  const span = spans[range];
  const month = () => stats.timeline({ since: now - 30 * DAY, until: now, bucket: 'day' });
  const [subscribers, last30, timeline] = await Promise.all([
    stats.subscribers({ since: now - Math.max(span.ms, 2 * DAY) }),
    month(),
    range === '30d' ? undefined : stats.timeline({ since: now - span.ms, until: now, bucket: span.bucket }),
  ]);
  const chart = timeline ?? last30;
  return {
    range,
    minShown: MIN_SHOWN,
    subscribers: { total: subscribers.total, byService: subscribers.byService, byBrowser: subscribers.byBrowser },
    daily: subscribers.daily.map(({ day, created, removed, total }) => ({ day, created, removed, total })),
    timeline: { bucket: chart.bucket, points: chart.points.map(point) },
    engagement: [7, 30].map((days) => engagement(last30.points.slice(-days), days, warnBelow)),
  };
}

function point(p: TimelinePoint): TimelinePoint {
  const { at, messages, sent, delivered, shown, clicked, closed, workerFailed, subscribed, unsubscribed } = p;
  return { at, messages, sent, delivered, shown, clicked, closed, workerFailed, subscribed, unsubscribed };
}

/** Sums the last `days` day-buckets into rates. */
export function engagement(points: TimelinePoint[], days: number, warnBelow: number): Engagement {
  let shown = 0;
  let clicked = 0;
  let closed = 0;
  for (const p of points) {
    shown += p.shown;
    clicked += p.clicked;
    closed += p.closed;
  }
  const rate = (n: number) => (shown > 0 ? n / shown : null);
  const interactionRate = rate(clicked + closed);
  return {
    days,
    shown,
    clicked,
    closed,
    clickRate: rate(clicked),
    closeRate: rate(closed),
    interactionRate,
    low: interactionRate !== null && shown >= MIN_SHOWN && interactionRate < warnBelow,
  };
}
