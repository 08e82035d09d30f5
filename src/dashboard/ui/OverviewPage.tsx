import { useMemo } from 'preact/hooks';
import { RANGES, type Engagement, type OverviewData, type Session } from '../protocol.js';
import type { PageProps } from './App.js';
import { Chart } from './Chart.js';
import { CountTable } from './CountTable.js';
import { formatNumber, formatRate } from './format.js';
import { Link } from './Link.js';
import { pageUrl } from './router.js';
import { Status } from './Status.js';
import { useData } from './useData.js';
import { Unavailable } from './Unavailable.js';

const RANGE_NAMES: Record<string, string> = { '2d': '2 days', '7d': '7 days', '30d': '30 days', '90d': '90 days' };

export function OverviewPage({ base, api, url, onSession, session }: PageProps) {
  const range = url.searchParams.get('range') ?? undefined;
  const loaded = useData(`overview ${range}`, () => api.overview(range), onSession);
  return (
    <>
      <h1>Overview</h1>
      <nav aria-label="Period" class="tabs">
        <ul>
          {RANGES.map((r) => (
            <li key={r}>
              <Link href={pageUrl(base, '/', { range: r === '30d' ? undefined : r })} current={(range ?? '30d') === r}>
                {RANGE_NAMES[r]}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <Status loading={loaded.loading} error={loaded.error} />
      {loaded.data && session && <Overview data={loaded.data} session={session} />}
    </>
  );
}

function Overview({ data, session }: { data: OverviewData; session: Session }) {
  const charts = useMemo(() => {
    const points = data.timeline?.points ?? [];
    const times = points.map((p) => p.at);
    return {
      times,
      sends: [{ label: 'messages sent', values: points.map((p) => p.messages) }],
      events: [
        { label: 'accepted by push services', values: points.map((p) => p.sent) },
        { label: 'delivered', values: points.map((p) => p.delivered) },
        { label: 'shown', values: points.map((p) => p.shown) },
        { label: 'clicked', values: points.map((p) => p.clicked) },
        { label: 'closed', values: points.map((p) => p.closed) },
        { label: 'failed in the worker', values: points.map((p) => p.workerFailed) },
      ],
      days: (data.daily ?? []).map((d) => d.day),
      total: [{ label: 'subscriptions', values: (data.daily ?? []).map((d) => d.total), level: true }],
      changes: [
        { label: 'created', values: (data.daily ?? []).map((d) => d.created) },
        { label: 'removed', values: (data.daily ?? []).map((d) => d.removed) },
      ],
    };
  }, [data]);
  const subscribers = data.subscribers;
  return (
    <>
      <section aria-labelledby="now">
        <h2 id="now">Subscribers now</h2>
        {subscribers ? <p class="big">{formatNumber(subscribers.total)}</p> : <Unavailable what="subscriber counts" needs="push.stats or push.count()" />}
        {subscribers?.byService && (
          <div class="columns">
            <CountTable caption="By push service" label="Push service" counts={subscribers.byService} total={subscribers.total} />
            <CountTable caption="By browser" label="Browser" counts={subscribers.byBrowser ?? {}} total={subscribers.total} />
          </div>
        )}
      </section>
      {!session.capabilities.stats && <Unavailable what="the send log, events and engagement" needs="push.stats (tidings' insight)" />}
      {data.engagement && (
        <section aria-labelledby="engagement">
          <h2 id="engagement">Engagement</h2>
          <div class="cards">
            {data.engagement.map((e) => (
              <EngagementCard key={e.days} engagement={e} />
            ))}
          </div>
          <p class="note">
            Chrome revokes the notification permission of sites that send many notifications and get little interaction with them (Chromium blog,
            October 2025). Chrome publishes no threshold; the same announcement says that under 1% of all notifications get any interaction. This page
            warns when clicks and closes together fall under {formatRate(session.engagementWarning)} of the notifications shown, once at least{' '}
            {formatNumber(data.minShown)} were shown (the dashboard's <code>engagementWarning</code> option). Installed web apps are exempt.
          </p>
        </section>
      )}
      {data.daily && data.daily.length > 0 && (
        <section aria-labelledby="subscribers-chart">
          <h2 id="subscribers-chart">Subscribers over time</h2>
          <div class="columns">
            <Chart title="Subscriptions" times={charts.days} series={charts.total} bucket="day" />
            <Chart title="Created and removed per day" times={charts.days} series={charts.changes} bucket="day" />
          </div>
        </section>
      )}
      {data.timeline && (
        <section aria-labelledby="activity">
          <h2 id="activity">Sends and events</h2>
          <div class="columns">
            <Chart title={`Messages per ${data.timeline.bucket}`} times={charts.times} series={charts.sends} bucket={data.timeline.bucket} />
            <Chart title={`Pushes and events per ${data.timeline.bucket}`} times={charts.times} series={charts.events} bucket={data.timeline.bucket} />
          </div>
        </section>
      )}
    </>
  );
}

function EngagementCard({ engagement: e }: { engagement: Engagement }) {
  return (
    <div class={e.low ? 'card warn' : 'card'}>
      <h3>Last {e.days} days</h3>
      <dl>
        <dt>Click rate</dt>
        <dd>{formatRate(e.clickRate)}</dd>
        <dt>Close rate</dt>
        <dd>{formatRate(e.closeRate)}</dd>
        <dt>Shown</dt>
        <dd>{formatNumber(e.shown)}</dd>
      </dl>
      {e.low && (
        <p class="warning" role="status">
          Low engagement: {formatRate(e.interactionRate)} of the notifications shown were clicked or closed. Chrome may revoke this site's permission.
        </p>
      )}
    </div>
  );
}
