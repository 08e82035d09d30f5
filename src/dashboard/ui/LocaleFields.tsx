import { languageTag } from '../../shared/languageTag.js';
import type { LocaleOverride } from '../protocol.js';

/** One language of the message as typed: its tag and the title and body it changes. */
export interface LocaleRow {
  tag: string;
  title: string;
  body: string;
}

/** Languages one send may carry (send()'s own limit). */
const MAX_LOCALES = 100;

/**
 * send()'s `locales` from the rows (empty rows left out), or why they make none: a tag
 * that is not BCP 47 (checked with the server's own `languageTag`, which also makes
 * `pt-br` into `pt-BR`), a language given twice, one that changes nothing. The server
 * checks them again, as send() does, before anything is sent.
 */
export function toLocales(rows: readonly LocaleRow[]): { locales?: Record<string, LocaleOverride> } | { problem: string } {
  const locales: Record<string, LocaleOverride> = {};
  let count = 0;
  for (const row of rows) {
    if (!row.tag.trim() && !row.title && !row.body) continue;
    const tag = languageTag(row.tag.trim());
    if (!tag) return { problem: `Language "${row.tag}": not a language tag such as fr or pt-BR.` };
    if (Object.hasOwn(locales, tag)) return { problem: `Language ${tag} is given twice.` };
    if (!row.title && !row.body) return { problem: `Language ${tag}: give its title or its body.` };
    // `lang` tells the browser (and its screen reader) which language the text is in.
    const notification: NonNullable<LocaleOverride['notification']> = { lang: tag };
    if (row.title) notification.title = row.title;
    if (row.body) notification.body = row.body;
    locales[tag] = { notification };
    if (++count > MAX_LOCALES) return { problem: `At most ${MAX_LOCALES} languages.` };
  }
  return count > 0 ? { locales } : {};
}

interface LocaleProps {
  rows: LocaleRow[];
  onChange(rows: LocaleRow[]): void;
}

/**
 * The message in other languages: each subscriber gets the best match for the language
 * their browser reported (`fr-CA` gets `fr`), and the text above when none matches.
 */
export function LocaleFields({ rows, onChange }: LocaleProps) {
  const change = (i: number, field: keyof LocaleRow, value: string) => onChange(rows.map((row, j) => (j === i ? { ...row, [field]: value } : row)));
  return (
    <fieldset>
      <legend>Languages</legend>
      <p class="muted small">
        Each subscriber gets the language closest to their browser's (<code>fr-CA</code> gets <code>fr</code>); those with no match get the text above. A
        language's empty field keeps the text above.
      </p>
      {rows.map((row, i) => (
        <div class="condition" role="group" aria-label={`Language ${i + 1}`} key={i}>
          <label>
            Language tag
            <input value={row.tag} maxLength={35} placeholder="fr" onInput={(e) => change(i, 'tag', e.currentTarget.value)} />
          </label>
          <label>
            Title in that language
            <input value={row.title} maxLength={256} onInput={(e) => change(i, 'title', e.currentTarget.value)} />
          </label>
          <label>
            Body in that language
            <textarea rows={2} maxLength={4096} value={row.body} onInput={(e) => change(i, 'body', e.currentTarget.value)} />
          </label>
          <button type="button" onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            Remove language {i + 1}
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, { tag: '', title: '', body: '' }])}>
        Add a language
      </button>
    </fieldset>
  );
}
