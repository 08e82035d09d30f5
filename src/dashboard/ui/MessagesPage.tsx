import type { MessageRow } from '../protocol.js';
import type { PageProps } from './App.js';
import { formatNumber, formatRate, formatTime } from './format.js';
import { FunnelBar } from './FunnelBar.js';
import { Link } from './Link.js';
import { pageUrl } from './router.js';
import { Status } from './Status.js';
import { Unavailable } from './Unavailable.js';
import { useData } from './useData.js';

/** The send log, newest first, a page at a time (`?after=` is the cursor of the page). */
export function MessagesPage({ base, api, url, onSession }: PageProps) {
  const after = url.searchParams.get('after') ?? undefined;
  const loaded = useData(`messages ${after}`, () => api.messages(after), onSession);
  const data = loaded.data;
  return (
    <>
      <h1>Messages</h1>
      <Status loading={loaded.loading} error={loaded.error} />
      {data === null && <Unavailable what="send log" needs="push.stats (tidings' insight)" />}
      {data && data.items.length === 0 && <p class="muted">Nothing has been sent{after ? ' before these' : ' yet'}.</p>}
      {data && data.items.length > 0 && (
        <div class="scroll">
          <table class="messages">
            <thead>
              <tr>
                <th scope="col">Message</th>
                <th scope="col">Created</th>
                <th scope="col">State</th>
                <th scope="col">Funnel</th>
                <th scope="col">Targeted / clicked</th>
                <th scope="col">Click rate</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((item) => (
                <Row key={item.id} base={base} item={item} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav aria-label="Pages" class="pager">
        {after && <Link href={pageUrl(base, '/messages')}>Newest</Link>}
        {data?.next && <Link href={pageUrl(base, '/messages', { after: data.next })}>Older</Link>}
      </nav>
    </>
  );
}

function Row({ base, item }: { base: string; item: MessageRow }) {
  return (
    <tr>
      <td>
        <Link href={pageUrl(base, `/messages/${encodeURIComponent(item.id)}`)}>{item.title || '(no title)'}</Link>
        {item.by !== undefined && <div class="muted small">by {item.by}</div>}
      </td>
      <td>{formatTime(item.createdAt)}</td>
      <td>
        <span class={`state state-${item.state}`}>{item.state}</span>
        {item.overdueSince !== undefined && (
          <div class="small state-failed" title={`Overdue since ${formatTime(item.overdueSince)}: its process has most likely stopped (the message's page says more)`}>
            overdue
          </div>
        )}
      </td>
      <td class="funnel-cell">
        <FunnelBar counts={item} />
      </td>
      <td>
        {formatNumber(item.targeted)} / {formatNumber(item.clicked)}
      </td>
      <td>{formatRate(item.clickRate)}</td>
    </tr>
  );
}
