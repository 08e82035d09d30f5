import { useEffect, useState } from 'preact/hooks';
import type { EventCounts, MessageData, MessageDetail, Session } from '../protocol.js';
import type { PageProps } from './App.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { formatNumber, formatRate, formatTime } from './format.js';
import { FunnelBar, FunnelTable } from './FunnelBar.js';
import { ProgressView } from './ProgressView.js';
import { ShownUrl } from './ShownUrl.js';
import { Status } from './Status.js';
import { useData } from './useData.js';

/** How often a running send's page reads its progress again. */
const POLL_MS = 1000;
/**
 * A finished send's funnel goes on filling as browsers report delivered, shown and
 * clicked (most within minutes): its page reads it again this often, for this long after
 * the send ended.
 */
const FUNNEL_POLL_MS = 3000;
const FUNNEL_WATCH_MS = 15 * 60_000;

/** One message: its funnel, by push service and browser, its errors by cause, its envelope; progress and cancel while it runs. */
export function MessagePage({ api, onSession, session, id }: PageProps & { id: string }) {
  const loaded = useData(`message ${id}`, () => api.message(id), onSession);
  const data = loaded.data;
  const running = data?.progress !== undefined && ['scheduled', 'queued', 'running'].includes(data.progress.state);
  const finishedAt = data?.message?.finishedAt;
  const filling = !running && finishedAt !== undefined && Date.now() - finishedAt < FUNNEL_WATCH_MS;
  useEffect(() => {
    if (!running && !filling) return;
    const timer = setTimeout(loaded.reload, running ? POLL_MS : FUNNEL_POLL_MS);
    return () => clearTimeout(timer);
  }, [data, running, filling]);
  return (
    <>
      <h1>{data?.message?.title || (data ? '(no title)' : 'Message')}</h1>
      <Status loading={loaded.loading && !data} error={loaded.error} />
      {data && session && <Message data={data} session={session} onCancel={() => api.cancel(id).then(loaded.reload)} />}
    </>
  );
}

function Message({ data, session, onCancel }: { data: MessageData; session: Session; onCancel(): Promise<void> }) {
  const { message, progress } = data;
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <>
      {progress && (
        <section aria-labelledby="progress">
          <h2 id="progress">Progress</h2>
          <ProgressView progress={progress} />
          {data.cancellable && (
            <div class="buttons">
              <button type="button" class="danger" onClick={() => setAsking(true)}>
                Cancel this send
              </button>
            </div>
          )}
          {error && (
            <p class="notice error" role="alert">
              {error}
            </p>
          )}
          {asking && (
            <ConfirmDialog
              title="Cancel this send?"
              confirm="Cancel the send"
              dismiss="Keep sending"
              onClose={(yes) => {
                setAsking(false);
                if (yes) onCancel().catch((e: unknown) => setError(`Could not cancel: ${e instanceof Error ? e.message : String(e)}`));
              }}
            >
              <p>Subscribers not reached yet will not get it. Those already reached keep it.</p>
            </ConfirmDialog>
          )}
        </section>
      )}
      {!message && <p class="notice">This push server keeps no send log (push.stats), so only the send's progress is known.</p>}
      {message && <Detail message={message} linkOrigins={session.linkOrigins} />}
    </>
  );
}

function Detail({ message: m, linkOrigins }: { message: MessageDetail; linkOrigins: readonly string[] }) {
  return (
    <>
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{m.id}</code>
        </dd>
        <dt>State</dt>
        <dd>
          <span class={`state state-${m.state}`}>{m.state}</span>
          {m.error !== undefined && <> ({m.error})</>}
        </dd>
        <dt>Sent by</dt>
        <dd>{m.by ?? <span class="muted">not recorded</span>}</dd>
        <dt>Through</dt>
        <dd>{m.via === 'queue' ? 'the queue' : 'send()'}</dd>
        <dt>Created</dt>
        <dd>{formatTime(m.createdAt)}</dd>
        {m.scheduledAt !== undefined && (
          <>
            <dt>Scheduled for</dt>
            <dd>{formatTime(m.scheduledAt)}</dd>
          </>
        )}
        <dt>Started</dt>
        <dd>{formatTime(m.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(m.finishedAt)}</dd>
        <dt>Opens</dt>
        <dd>
          <ShownUrl url={m.url} linkOrigins={linkOrigins} />
        </dd>
        <dt>Click rate</dt>
        <dd>{formatRate(m.clickRate)}</dd>
        <dt>Close rate</dt>
        <dd>{formatRate(m.closeRate)}</dd>
      </dl>
      <section aria-labelledby="funnel">
        <h2 id="funnel">Funnel</h2>
        <FunnelBar counts={m} />
        <FunnelTable counts={m} />
        <p class="note outcomes">
          Of the <span data-count="targeted">{formatNumber(m.targeted)}</span> targeted: <span data-count="sent">{formatNumber(m.sent)}</span> accepted by
          push services, <span data-count="gone">{formatNumber(m.gone)}</span> gone (removed), <span data-count="failed">{formatNumber(m.failed)}</span>{' '}
          failed ({formatNumber(m.pruned)} pruned), <span data-count="capped">{formatNumber(m.capped)}</span> skipped by a frequency cap;{' '}
          {formatNumber(m.deferred)} of them waited for their local time or quiet hours.
        </p>
        <p class="note">Events count only when signed by the subscription; {formatNumber(total(m.unverified))} unsigned events are left out.</p>
      </section>
      <section aria-labelledby="by">
        <h2 id="by">By push service and browser</h2>
        <div class="columns">
          <Breakdown caption="By push service" label="Push service" rows={m.byService} sendCounts />
          <Breakdown caption="By browser" label="Browser" rows={m.byBrowser} />
        </div>
      </section>
      <section aria-labelledby="errors">
        <h2 id="errors">Errors</h2>
        {m.errors.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Cause</th>
                  <th scope="col">Push service</th>
                  <th scope="col">Subscribers</th>
                  <th scope="col">What it said</th>
                </tr>
              </thead>
              <tbody>
                {m.errors.map((e) => (
                  <tr key={`${e.cause} ${e.host}`}>
                    <th scope="row">{e.cause}</th>
                    <td>{e.host || <span class="muted">none reached</span>}</td>
                    <td>{formatNumber(e.count)}</td>
                    <td>{e.sample ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="envelope">
        <h2 id="envelope">Envelope</h2>
        <pre tabIndex={0} aria-label="The envelope as sent">
          {JSON.stringify(m.envelope, null, 2)}
        </pre>
        <h3>Audience</h3>
        <pre tabIndex={0} aria-label="The audience">
          {m.audience === null ? 'everyone' : JSON.stringify(m.audience, null, 2)}
        </pre>
        <h3>Options</h3>
        <pre tabIndex={0} aria-label="The send options">
          {JSON.stringify(m.options, null, 2)}
        </pre>
      </section>
    </>
  );
}

function total(counts: EventCounts): number {
  return counts.delivered + counts.shown + counts.clicked + counts.closed + counts.workerFailed;
}

function Breakdown({
  caption,
  label,
  rows,
  sendCounts,
}: {
  caption: string;
  label: string;
  rows: Record<string, EventCounts & { sent?: number; gone?: number; failed?: number }>;
  sendCounts?: boolean;
}) {
  const entries = Object.entries(rows);
  return (
    <div class="scroll">
      <table class="numbers">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{label}</th>
            {sendCounts && <th scope="col">Sent</th>}
            <th scope="col">Delivered</th>
            <th scope="col">Shown</th>
            <th scope="col">Clicked</th>
            <th scope="col">Closed</th>
          </tr>
        </thead>
        <tbody>
          {entries.length === 0 && (
            <tr>
              <td colSpan={sendCounts ? 6 : 5} class="muted">
                none
              </td>
            </tr>
          )}
          {entries.map(([name, c]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              {sendCounts && <td>{formatNumber(c.sent ?? 0)}</td>}
              <td>{formatNumber(c.delivered)}</td>
              <td>{formatNumber(c.shown)}</td>
              <td>{formatNumber(c.clicked)}</td>
              <td>{formatNumber(c.closed)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
