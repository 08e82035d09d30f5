import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Envelope } from '../../shared/protocol.js';
import type { ComposeOptions, SendAnswer, Session } from '../protocol.js';
import type { PageProps } from './App.js';
import { ApiError, type Api } from './api.js';
import { AudienceBuilder } from './AudienceBuilder.js';
import { toAudience, type AudienceRow } from './audienceRows.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { formatNumber } from './format.js';
import { Link } from './Link.js';
import { Preview } from './Preview.js';
import { navigate, pageUrl } from './router.js';
import { Status } from './Status.js';
import { useData } from './useData.js';
import { ControlFields, EMPTY_CONTROLS, toOptions, type ControlValues } from './ControlFields.js';
import { LocaleFields, toLocales, type LocaleRow } from './LocaleFields.js';

interface Draft {
  title: string;
  body: string;
  url: string;
  icon: string;
  image: string;
  actions: { action: string; title: string; url: string }[];
  data: string;
}

const EMPTY: Draft = { title: '', body: '', url: '', icon: '', image: '', actions: [], data: '' };

export function ComposePage(props: PageProps) {
  const loaded = useData('compose', () => props.api.compose(), props.onSession);
  return (
    <>
      <h1>Compose</h1>
      <Status loading={loaded.loading} error={loaded.error} />
      {loaded.data && props.session && <Compose base={props.base} api={props.api} session={props.session} />}
    </>
  );
}

/** The envelope the draft describes, or why it describes none. */
function toEnvelope(draft: Draft): { envelope: Envelope } | { problem: string } {
  if (!draft.title.trim()) return { problem: 'A notification needs a title.' };
  const notification: NonNullable<Envelope['notification']> = { title: draft.title };
  if (draft.body) notification.body = draft.body;
  for (const field of ['url', 'icon', 'image'] as const) if (draft[field].trim()) notification[field] = draft[field].trim();
  const actions = draft.actions.filter((a) => a.title.trim() || a.action.trim());
  if (actions.some((a) => !a.title.trim() || !a.action.trim())) return { problem: 'Each action needs a name and a title.' };
  if (actions.length > 0) notification.actions = actions.map((a) => ({ action: a.action.trim(), title: a.title, ...(a.url.trim() ? { url: a.url.trim() } : {}) }));
  const envelope: Envelope = { v: 1, notification };
  if (draft.data.trim()) {
    try {
      envelope.data = JSON.parse(draft.data) as Envelope['data'];
    } catch {
      return { problem: 'Data must be JSON.' };
    }
  }
  return { envelope };
}

function Compose({ base, api, session }: { base: string; api: Api; session: Session }) {
  const caps = session.capabilities;
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [rows, setRows] = useState<AudienceRow[]>([]);
  const [controls, setControls] = useState<ControlValues>(EMPTY_CONTROLS);
  const [localeRows, setLocaleRows] = useState<LocaleRow[]>([]);
  const [previewIn, setPreviewIn] = useState('');
  const [size, setSize] = useState<{ for: string; count: number | null }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [sent, setSent] = useState<SendAnswer>();
  const [confirming, setConfirming] = useState<{ kind: 'send' | 'test'; size: number | null }>();

  const audience = useMemo(() => toAudience(rows, caps.richAudiences), [rows, caps.richAudiences]);
  const message = useMemo(() => toEnvelope(draft), [draft]);
  const withLocales = caps.controls.includes('locales');
  const locales = useMemo(() => (withLocales ? toLocales(localeRows) : {}), [localeRows, withLocales]);
  const options = useMemo(() => {
    const chosen = toOptions(controls, caps.controls);
    if ('problem' in chosen) return chosen;
    if ('problem' in locales) return locales;
    return locales.locales ? { options: { ...chosen.options, locales: locales.locales } } : chosen;
  }, [controls, caps.controls, locales]);
  const languages = 'locales' in locales && locales.locales ? Object.keys(locales.locales) : [];
  const shownIn = languages.includes(previewIn) ? previewIn : '';
  const previewed = useMemo(() => {
    const actions = draft.actions.filter((a) => a.title.trim());
    const override = shownIn && 'locales' in locales ? locales.locales?.[shownIn]?.notification : undefined;
    return { ...draft, title: override?.title ?? draft.title, body: override?.body ?? draft.body, actions };
  }, [draft, locales, shownIn]);
  const audienceKey = 'to' in audience ? JSON.stringify(audience.to) : '';

  // The audience's size, asked again (after a short pause) whenever the audience changes.
  useEffect(() => {
    if (!caps.count || !('to' in audience)) return;
    const to = audience.to;
    const timer = setTimeout(() => {
      api.count(to).then(
        (answer) => setSize({ for: audienceKey, count: answer.count }),
        () => setSize({ for: audienceKey, count: null }),
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [audienceKey]);

  const set = (field: keyof Omit<Draft, 'actions'>) => (event: { currentTarget: { value: string } }) => setDraft({ ...draft, [field]: event.currentTarget.value });
  const problem = 'problem' in message ? message.problem : 'problem' in audience ? audience.problem : 'problem' in options ? options.problem : undefined;

  async function submit(kind: 'send' | 'test', confirm?: number | null) {
    if (!('envelope' in message) || !('to' in audience) || !('options' in options)) return;
    setBusy(true);
    setError(undefined);
    setSent(undefined);
    const confirmed = confirm === undefined ? {} : { confirm };
    try {
      const answer =
        kind === 'send'
          ? await api.send({ envelope: message.envelope, to: audience.to, options: options.options, ...confirmed })
          : await api.test({ envelope: message.envelope, options: options.options, ...confirmed });
      // A queued or scheduled send runs on: its page shows the progress (and cancel).
      if ((answer.via === 'queue' || answer.scheduledAt !== undefined) && kind === 'send') navigate(pageUrl(base, `/messages/${encodeURIComponent(answer.id)}`));
      else setSent(answer);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && e.body?.error === 'confirm') setConfirming({ kind, size: e.body.audience ?? null });
      else setError(e instanceof ApiError ? `Not sent: ${e.body?.reason ?? e.body?.error ?? e.status}${e.body?.field ? ` (${e.body.field})` : ''}.` : `Not sent: ${String(e)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      class="compose"
      onSubmit={(event) => {
        event.preventDefault();
        void submit('send');
      }}
    >
      <fieldset>
        <legend>Notification</legend>
        <label>
          Title
          <input required maxLength={256} value={draft.title} onInput={set('title')} />
        </label>
        <label>
          Body
          <textarea maxLength={4096} rows={3} value={draft.body} onInput={set('body')} />
        </label>
        <label>
          Opens (URL)
          <input maxLength={2048} value={draft.url} onInput={set('url')} placeholder="/articles/42" />
        </label>
        <label>
          Icon (URL)
          <input maxLength={2048} value={draft.icon} onInput={set('icon')} />
        </label>
        <label>
          Image (URL)
          <input maxLength={2048} value={draft.image} onInput={set('image')} />
        </label>
        {draft.actions.map((action, i) => (
          <div class="condition" role="group" aria-label={`Action ${i + 1}`} key={i}>
            {(['action', 'title', 'url'] as const).map((field) => (
              <label key={field}>
                {field === 'action' ? 'Name' : field === 'title' ? 'Button title' : 'Opens (URL)'}
                <input
                  value={action[field]}
                  maxLength={field === 'url' ? 2048 : 256}
                  onInput={(e) => setDraft({ ...draft, actions: draft.actions.map((a, j) => (j === i ? { ...a, [field]: e.currentTarget.value } : a)) })}
                />
              </label>
            ))}
            <button type="button" onClick={() => setDraft({ ...draft, actions: draft.actions.filter((_, j) => j !== i) })}>
              Remove action {i + 1}
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setDraft({ ...draft, actions: [...draft.actions, { action: '', title: '', url: '' }] })}>
          Add an action
        </button>
        <label>
          Data (JSON, for your pages and worker handlers)
          <textarea rows={2} maxLength={4000} value={draft.data} onInput={set('data')} />
        </label>
      </fieldset>
      <AudienceBuilder rows={rows} rich={caps.richAudiences} onChange={setRows} />
      <p aria-live="polite" class="size">
        {!caps.count
          ? 'The audience size is not known before sending: this push server has no count().'
          : size && size.for === audienceKey
            ? size.count === null
              ? 'The audience size could not be counted.'
              : `Audience: ${formatNumber(size.count)} subscription${size.count === 1 ? '' : 's'}.`
            : 'Counting…'}
      </p>
      <ControlFields values={controls} offered={caps.controls} onChange={setControls} />
      {withLocales && <LocaleFields rows={localeRows} onChange={setLocaleRows} />}
      {languages.length > 0 && (
        <label>
          Preview in
          <select value={shownIn} onChange={(e) => setPreviewIn(e.currentTarget.value)}>
            <option value="">the text above (no language matched)</option>
            {languages.map((tag) => (
              <option key={tag} value={tag}>
                {tag}
              </option>
            ))}
          </select>
        </label>
      )}
      <Preview message={previewed} lang={shownIn || undefined} />
      {problem && <p class="notice">{problem}</p>}
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      {sent && <Sent base={base} sent={sent} stats={caps.stats} />}
      <div class="buttons">
        {session.canTest && (
          <button type="button" disabled={busy || problem !== undefined} onClick={() => void submit('test')}>
            Send a test to yourself
          </button>
        )}
        <button type="submit" class="primary" disabled={busy || problem !== undefined}>
          {caps.controls.includes('at') && controls.at ? 'Schedule' : 'Send'}
        </button>
      </div>
      {!session.canTest && <p class="muted small">No test send: the dashboard's authorize() named no audience of your own.</p>}
      {confirming && (
        <ConfirmDialog
          title={confirming.size === null ? 'Send to an audience of unknown size?' : `Send to ${formatNumber(confirming.size)} subscriptions?`}
          confirm="Send"
          dismiss="Do not send"
          onClose={(yes) => {
            const { kind, size: confirmed } = confirming;
            setConfirming(undefined);
            if (yes) void submit(kind, confirmed);
          }}
        >
          <p>
            {confirming.kind === 'test' ? 'Your own audience' : 'This audience'}{' '}
            {confirming.size === null ? 'cannot be counted by this push server.' : `is ${formatNumber(confirming.size)} subscriptions now.`}
          </p>
        </ConfirmDialog>
      )}
    </form>
  );
}

function Sent({ base, sent, stats }: { base: string; sent: SendAnswer; stats: boolean }) {
  return (
    <p class="notice ok" role="status">
      Sent
      {sent.result && (
        <>
          : {formatNumber(sent.result.sent)} accepted, {formatNumber(sent.result.gone)} gone, {formatNumber(sent.result.failed)} failed
        </>
      )}
      . {stats && <Link href={pageUrl(base, `/messages/${encodeURIComponent(sent.id)}`)}>See its funnel</Link>}
    </p>
  );
}

export type { ComposeOptions };
