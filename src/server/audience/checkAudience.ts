import { attributeKeyProblem, attributeValueProblem, ownEntries } from '../common/attributeRules.js';
import { invalidOption as invalid } from '../common/checkOptions.js';
import { requestLimits } from '../common/requestLimits.js';
import { audienceLimits, type AttributeChanges, type AttributeMatch, type AttributeValue, type Audience, type SubscriptionQuery } from './Audience.js';

/**
 * Checks an audience as a whole and returns a copy built from what was checked, or
 * throws TidingsError `invalid-option` naming the part (`to.any.1.attributes.team`).
 * Only own properties of plain objects are read (nothing inherited, no getters), so what
 * is checked is what the store is given. Refused: an empty audience (`{}`), empty
 * `attributes`, `any` or lists (a send meant for somebody must never reach everyone, nor
 * quietly nobody), attribute names and values that no subscription can hold
 * (`__proto__`, control characters, nested objects), unknown parts, and audiences past
 * `audienceLimits` (nesting, terms).
 */
export function checkAudience(value: unknown, field: string): Audience {
  const budget = { terms: 0, field };
  return audience(value, field, 1, budget);
}

/**
 * Checks what a store is asked (`findSubscriptions` and the other query methods):
 * `ids`, `limit` and `after` beside an optional audience, which must then be a valid one
 * (`{ attributes: {} }` is refused, not read as "everyone"). The built-in stores run it on
 * every query, so a query that did not come through send() (a site's own call, a job
 * read back from Redis) is held to the same rules.
 */
export function checkSubscriptionQuery(query: unknown, field = 'query'): SubscriptionQuery {
  if (query === undefined) return {};
  const entries = ownEntries(query);
  if (!entries) return invalid(field, 'must be a plain object');
  const out: SubscriptionQuery = {};
  const rest: [string, unknown][] = [];
  for (const [key, part] of entries) {
    if (part === undefined) continue;
    if (key === 'ids') {
      out.ids = idList(part, `${field}.ids`);
    } else if (key === 'limit') {
      if (typeof part !== 'number' || !Number.isSafeInteger(part) || part < 1) invalid(`${field}.limit`, 'must be an integer >= 1');
      out.limit = part;
    } else if (key === 'after') {
      if (typeof part !== 'string') invalid(`${field}.after`, 'must be a string');
      out.after = part;
    } else {
      rest.push([key, part]);
    }
  }
  if (rest.length > 0) Object.assign(out, checkAudience(Object.fromEntries(rest), field));
  return out;
}

/**
 * Checks attributes to merge into subscriptions (`push.setAttributes`): a plain object of
 * 1 to 32 attribute names, each set to a value or `null` (remove), under the same rules
 * as attributes a browser registers. Returns a checked copy, or throws `invalid-option`.
 */
export function checkAttributeChanges(value: unknown, field: string): AttributeChanges {
  const entries = ownEntries(value);
  if (!entries) return invalid(field, 'must be a plain object of attribute names');
  if (entries.length === 0) invalid(field, 'is empty: nothing to change');
  if (entries.length > requestLimits.attributes) invalid(field, `has more than ${requestLimits.attributes} keys`);
  const out: AttributeChanges = {};
  for (const [key, change] of entries) {
    const keyProblem = attributeKeyProblem(key);
    if (keyProblem) invalid(`${field}.${JSON.stringify(key)}`, keyProblem);
    const problem = change === null ? undefined : attributeValueProblem(change);
    if (problem) invalid(`${field}.${key}`, `${problem}: a string, a finite number, a boolean, or null to remove it`);
    out[key] = change as AttributeValue | null;
  }
  return out;
}

interface Budget {
  terms: number;
  field: string;
}

function audience(value: unknown, field: string, depth: number, budget: Budget): Audience {
  if (depth > audienceLimits.depth) invalid(field, `nests deeper than ${audienceLimits.depth} levels`);
  const entries = ownEntries(value);
  if (!entries) return invalid(field, 'must be a plain object with attributes, any or not');
  const out: Audience = {};
  for (const [key, part] of entries) {
    if (part === undefined) continue;
    if (key === 'attributes') out.attributes = attributes(part, `${field}.attributes`, budget);
    else if (key === 'any') out.any = anyOf(part, `${field}.any`, depth, budget);
    else if (key === 'not') out.not = audience(part, `${field}.not`, depth + 1, budget);
    else invalid(`${field}.${key}`, 'is not a part of an audience (attributes, any, not)');
  }
  if (Object.keys(out).length === 0) invalid(field, 'is empty, which would reach every subscription: leave `to` out to mean everyone');
  return out;
}

function attributes(value: unknown, field: string, budget: Budget): Record<string, AttributeMatch> {
  const entries = ownEntries(value);
  if (!entries) return invalid(field, 'must be a plain object of attribute names');
  if (entries.length === 0) invalid(field, 'is empty, which would reach every subscription');
  const out: Record<string, AttributeMatch> = {};
  for (const [key, match] of entries) {
    const problem = attributeKeyProblem(key);
    // JSON.stringify names the key exactly, even an empty one or one with a dot.
    if (problem) invalid(`${field}.${JSON.stringify(key)}`, `${problem}: no subscription can hold this attribute`);
    out[key] = attributeMatch(match, `${field}.${key}`, budget);
  }
  return out;
}

function attributeMatch(match: unknown, field: string, budget: Budget): AttributeMatch {
  if (Array.isArray(match)) {
    if (match.length === 0) invalid(field, 'is an empty list, which matches nothing');
    if (match.length > audienceLimits.terms) invalid(budget.field, `has more than ${audienceLimits.terms} terms`);
    const values: AttributeValue[] = [];
    for (let i = 0; i < match.length; i++) {
      const item: unknown = Object.hasOwn(match, i) ? match[i] : undefined;
      const problem = attributeValueProblem(item);
      if (problem) invalid(`${field}.${i}`, `${problem}: values are strings, finite numbers or booleans`);
      if (!values.includes(item as AttributeValue)) values.push(item as AttributeValue);
    }
    count(budget, values.length);
    return values;
  }
  if (typeof match === 'object' && match !== null) {
    const entries = ownEntries(match);
    if (!entries || entries.length !== 1 || entries[0]![0] !== 'present' || typeof entries[0]![1] !== 'boolean') {
      invalid(field, 'must be a value, a list of values, or { present: true | false }');
    }
    count(budget, 1);
    return { present: entries[0]![1] as boolean };
  }
  const problem = attributeValueProblem(match);
  if (problem) invalid(field, `${problem}: values are strings, finite numbers or booleans`);
  count(budget, 1);
  return match as AttributeValue;
}

function anyOf(value: unknown, field: string, depth: number, budget: Budget): Audience[] {
  if (!Array.isArray(value)) return invalid(field, 'must be a list of audiences');
  if (value.length === 0) invalid(field, 'is an empty list, which matches nothing');
  if (value.length > audienceLimits.terms) invalid(budget.field, `has more than ${audienceLimits.terms} terms`);
  const out: Audience[] = [];
  for (let i = 0; i < value.length; i++) out.push(audience(Object.hasOwn(value, i) ? value[i] : undefined, `${field}.${i}`, depth + 1, budget));
  return out;
}

/** A list of subscription ids (each a string; holes and inherited items refused). */
export function idList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) return invalid(field, 'must be a list of subscription ids');
  const ids: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const id: unknown = Object.hasOwn(value, i) ? value[i] : undefined;
    if (typeof id !== 'string') invalid(`${field}.${i}`, 'must be a subscription id (a string)');
    ids.push(id);
  }
  return ids;
}

function count(budget: Budget, terms: number): void {
  budget.terms += terms;
  if (budget.terms > audienceLimits.terms) invalid(budget.field, `has more than ${audienceLimits.terms} terms`);
}
