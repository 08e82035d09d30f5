import { useState } from 'preact/hooks';
import type { AudienceData, Session, SubscriptionRow } from '../protocol.js';
import type { PageProps } from './App.js';
import { CountTable } from './CountTable.js';
import { formatNumber, formatShare, formatTime } from './format.js';
import { Link } from './Link.js';
import { navigate, pageUrl } from './router.js';
import { Status } from './Status.js';
import { Unavailable } from './Unavailable.js';
import { useData } from './useData.js';

/** Counts by push service, browser and an attribute; one person's subscriptions by an identity attribute. */
export function AudiencePage({ base, api, url, onSession, session }: PageProps) {
  const query = {
    by: url.searchParams.get('by') ?? undefined,
    key: url.searchParams.get('key') ?? undefined,
    value: url.searchParams.get('value') ?? undefined,
    after: url.searchParams.get('after') ?? undefined,
  };
  const loaded = useData(`audience ${url.search}`, () => api.audience(query), onSession);
  const go = (changes: Partial<typeof query>) => navigate(pageUrl(base, '/audience', { ...query, after: undefined, ...changes }));
  return (
    <>
      <h1>Audience</h1>
      <Status loading={loaded.loading} error={loaded.error} />
      {loaded.data && session && <Audience base={base} data={loaded.data} session={session} query={query} go={go} />}
    </>
  );
}

interface Query {
  by: string | undefined;
  key: string | undefined;
  value: string | undefined;
  after: string | undefined;
}

function Audience({ base, data, session, query, go }: { base: string; data: AudienceData; session: Session; query: Query; go(changes: Partial<Query>): void }) {
  const s = data.subscribers;
  const [by, setBy] = useState(query.by ?? '');
  const [key, setKey] = useState(query.key ?? session.identityAttribute);
  const [value, setValue] = useState(query.value ?? '');
  if (!s) return <Unavailable what="audience figures" needs="push.stats or push.count()" />;
  return (
    <>
      <p class="big">{formatNumber(s.total)} subscriptions</p>
      {!session.capabilities.stats && <Unavailable what="breakdowns or search" needs="push.stats (tidings' insight)" />}
      {session.capabilities.stats && (
        <>
          <div class="columns">
            <CountTable caption="By push service" label="Push service" counts={s.byService} total={s.total} />
            <CountTable caption="By browser" label="Browser" counts={s.byBrowser} total={s.total} />
          </div>
          <section aria-labelledby="by-attribute">
            <h2 id="by-attribute">By attribute</h2>
            {session.attributes.length > 0 && (
              <ul class="chips">
                {session.attributes.map((name) => (
                  <li key={name}>
                    <Link href={pageUrl(base, '/audience', { by: name, key: query.key, value: query.value })} current={query.by === name}>
                      {name}
                    </Link>
                  </li>
                ))}
              </ul>
            )}
            <form
              class="inline"
              onSubmit={(event) => {
                event.preventDefault();
                go({ by: by.trim() || undefined });
              }}
            >
              <label>
                Attribute
                <input name="by" value={by} maxLength={64} onInput={(e) => setBy(e.currentTarget.value)} />
              </label>
              <button type="submit">Count</button>
            </form>
            {s.byAttribute && <AttributeCounts counts={s.byAttribute} total={s.total} />}
            {s.byIdentity && (
              <p class="notice" role="status">
                <q>{session.identityAttribute}</q> names a person: each value is one person's, so its counts would list everyone once. Find one
                person's subscriptions below instead.
              </p>
            )}
          </section>
          <section aria-labelledby="find">
            <h2 id="find">Find someone's subscriptions</h2>
            <form
              class="inline"
              onSubmit={(event) => {
                event.preventDefault();
                go({ key: key.trim() || undefined, value: value === '' ? undefined : value });
              }}
            >
              <label>
                Attribute
                <input name="key" value={key} maxLength={64} onInput={(e) => setKey(e.currentTarget.value)} />
              </label>
              <label>
                Value
                <input name="value" value={value} maxLength={256} onInput={(e) => setValue(e.currentTarget.value)} />
              </label>
              <button type="submit">Find</button>
            </form>
            {data.found && <Found base={base} found={data.found} query={query} />}
          </section>
        </>
      )}
    </>
  );
}

function AttributeCounts({ counts, total }: { counts: NonNullable<NonNullable<AudienceData['subscribers']>['byAttribute']>; total: number }) {
  return (
    <table class="numbers">
      <caption>
        Values of <q>{counts.key}</q>
      </caption>
      <thead>
        <tr>
          <th scope="col">Value</th>
          <th scope="col">Subscribers</th>
          <th scope="col">Share</th>
        </tr>
      </thead>
      <tbody>
        {counts.values.map(({ value, count }) => (
          <tr key={`${typeof value} ${String(value)}`}>
            <th scope="row">
              {String(value)}
              {typeof value !== 'string' && <span class="muted small"> ({typeof value})</span>}
            </th>
            <td>{formatNumber(count)}</td>
            <td>{formatShare(count, total)}</td>
          </tr>
        ))}
        {counts.other > 0 && (
          <tr>
            <th scope="row" class="muted">
              other values
            </th>
            <td>{formatNumber(counts.other)}</td>
            <td>{formatShare(counts.other, total)}</td>
          </tr>
        )}
        <tr>
          <th scope="row" class="muted">
            not set
          </th>
          <td>{formatNumber(counts.none)}</td>
          <td>{formatShare(counts.none, total)}</td>
        </tr>
      </tbody>
    </table>
  );
}

function Found({ base, found, query }: { base: string; found: NonNullable<AudienceData['found']>; query: Query }) {
  return (
    <>
      <p>
        {formatNumber(found.items.length)}
        {found.next ? ' or more' : ''} subscriptions where <q>{found.key}</q> is <q>{found.value}</q>.
      </p>
      {found.items.length > 0 && (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Push service</th>
                <th scope="col">Browser</th>
                <th scope="col">State</th>
                <th scope="col">Attributes</th>
                <th scope="col">Created</th>
                <th scope="col">Last sent</th>
              </tr>
            </thead>
            <tbody>
              {found.items.map((item) => (
                <SubscriptionLine key={item.id} item={item} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {found.next && (
        <nav aria-label="More subscriptions" class="pager">
          <Link href={pageUrl(base, '/audience', { ...query, after: found.next })}>More</Link>
        </nav>
      )}
    </>
  );
}

function SubscriptionLine({ item }: { item: SubscriptionRow }) {
  return (
    <tr>
      <td>
        {item.service} <span class="muted small">{item.host}</span>
      </td>
      <td>{item.browser}</td>
      <td>{item.failingSince !== undefined ? <span class="state state-failed">failing since {formatTime(item.failingSince)}</span> : <span class="state state-done">working</span>}</td>
      <td>
        <ul class="attributes">
          {Object.entries(item.attributes).map(([name, value]) => (
            <li key={name}>
              <span class="key">{name}</span> = <span class="value">{String(value)}</span>
            </li>
          ))}
        </ul>
      </td>
      <td>{formatTime(item.createdAt)}</td>
      <td>{formatTime(item.lastSentAt)}</td>
    </tr>
  );
}
