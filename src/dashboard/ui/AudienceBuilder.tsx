import type { AudienceRow } from './audienceRows.js';

interface BuilderProps {
  rows: AudienceRow[];
  rich: boolean;
  onChange(rows: AudienceRow[]): void;
}

/** The audience as conditions on attributes, every one of which must hold; none: everyone. */
export function AudienceBuilder({ rows, rich, onChange }: BuilderProps) {
  const update = (index: number, change: Partial<AudienceRow>) => onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));
  return (
    <fieldset>
      <legend>Audience</legend>
      {rows.length === 0 && <p class="muted">Everyone subscribed.</p>}
      {rows.map((row, i) => (
        <div class="condition" key={i} role="group" aria-label={`Condition ${i + 1}`}>
          <label>
            Attribute
            <input value={row.key} maxLength={64} onInput={(e) => update(i, { key: e.currentTarget.value })} />
          </label>
          <label>
            Match
            <select value={row.op} onChange={(e) => update(i, { op: e.currentTarget.value as AudienceRow['op'] })}>
              <option value="is">{rich ? 'is any of' : 'is'}</option>
              {rich && <option value="not">is none of</option>}
              {rich && <option value="present">is set</option>}
              {rich && <option value="absent">is not set</option>}
            </select>
          </label>
          {(row.op === 'is' || row.op === 'not') && (
            <>
              <label>
                {rich ? 'Values (comma-separated)' : 'Value'}
                <input value={row.values} maxLength={2000} onInput={(e) => update(i, { values: e.currentTarget.value })} />
              </label>
              <label>
                Type
                <select value={row.type} onChange={(e) => update(i, { type: e.currentTarget.value as AudienceRow['type'] })}>
                  <option value="text">text</option>
                  <option value="number">number</option>
                  <option value="boolean">true / false</option>
                </select>
              </label>
            </>
          )}
          <button type="button" onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            Remove condition {i + 1}
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, { key: '', op: 'is', values: '', type: 'text' }])}>
        Add a condition
      </button>
    </fieldset>
  );
}
