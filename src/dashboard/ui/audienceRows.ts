import type { Audience, AttributeValue } from '../protocol.js';

/** One condition of the audience builder. */
export interface AudienceRow {
  key: string;
  /** is: any of the values; not: none of them; present / absent: the key is set or not. */
  op: 'is' | 'not' | 'present' | 'absent';
  /** Comma-separated. */
  values: string;
  type: 'text' | 'number' | 'boolean';
}

/**
 * The audience the rows describe (null: everyone), or the reason they describe none.
 * Without the richer audiences only "is" with one value is possible (an exact match).
 */
export function toAudience(rows: AudienceRow[], rich: boolean): { to: Audience | null } | { problem: string } {
  const attributes: NonNullable<Audience['attributes']> = {};
  const excluded: Audience[] = [];
  for (const row of rows) {
    const key = row.key.trim();
    if (!key) return { problem: 'Each condition needs an attribute name.' };
    if (Object.hasOwn(attributes, key)) return { problem: `"${key}" is named twice.` };
    if (row.op === 'present' || row.op === 'absent') {
      if (!rich) return { problem: 'This push server matches exact values only.' };
      attributes[key] = { present: row.op === 'present' };
      continue;
    }
    const values: AttributeValue[] = [];
    for (const text of row.values.split(',').map((v) => (row.type === 'text' ? v : v.trim()))) {
      if (text === '' && row.type !== 'text') continue;
      const value = parse(text, row.type);
      if (value === undefined) return { problem: `"${text}" is not a ${row.type === 'number' ? 'number' : 'true or false'} (${key}).` };
      values.push(value);
    }
    if (values.length === 0) return { problem: `Give ${key} a value.` };
    if (!rich && (values.length > 1 || row.op === 'not')) return { problem: 'This push server matches one exact value per attribute.' };
    if (row.op === 'is') attributes[key] = values.length === 1 ? values[0]! : values;
    else excluded.push({ attributes: { [key]: values.length === 1 ? values[0]! : values } });
  }
  if (rows.length === 0) return { to: null };
  const to: Audience = {};
  if (Object.keys(attributes).length > 0) to.attributes = attributes;
  if (excluded.length === 1) to.not = excluded[0]!;
  if (excluded.length > 1) to.not = { any: excluded };
  return { to };
}

function parse(text: string, type: AudienceRow['type']): AttributeValue | undefined {
  if (type === 'text') return text;
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : undefined;
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : undefined;
}
