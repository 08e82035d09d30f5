// What `tidings send` makes of --attr and --audience: the `to` of send(), built as given
// and checked by send() itself (the audience rules live in one place, the library's).
import type { SendTarget } from '../server/index.js';
import { UsageError } from './UsageError.js';

type Value = string | number | boolean;

/**
 * `--attr KEY=VALUE` flags as an audience. VALUE is a string, always (`user=007` is the
 * string '007'); `KEY:number=42` and `KEY:boolean=true` say otherwise. A key given twice
 * matches either value (`--attr team=red --attr team=blue`).
 */
export function audienceFromAttrFlags(pairs: string[]): SendTarget {
  // No prototype: a key such as __proto__ stays a key, for send() to refuse by name.
  const attributes: Record<string, Value | Value[]> = Object.create(null);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--attr ${pair} is not KEY=VALUE`);
    const typed = /^(.+):(string|number|boolean)$/.exec(pair.slice(0, eq));
    const key = typed ? typed[1]! : pair.slice(0, eq);
    const value = typedValue(pair.slice(eq + 1), typed?.[2] ?? 'string', pair);
    const before = attributes[key];
    attributes[key] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return { attributes };
}

/** `--audience JSON`: the whole audience language ({attributes, any, not}), as send() takes it. */
export function audienceFromJson(text: string): SendTarget {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('--audience must be JSON, e.g. {"attributes":{"team":["red","blue"]}}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--audience must be a JSON object');
  return parsed as SendTarget;
}

function typedValue(raw: string, type: string, pair: string): Value {
  if (type === 'string') return raw;
  if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new UsageError(`--attr ${pair}: a boolean is true or false`);
    return raw === 'true';
  }
  const number = Number(raw);
  if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw) || !Number.isFinite(number)) throw new UsageError(`--attr ${pair}: not a number`);
  return number;
}
