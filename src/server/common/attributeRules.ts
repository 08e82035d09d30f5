import { requestLimits } from './requestLimits.js';

// What an attribute is, wherever one comes from (a browser's registration, `identify`,
// `push.setAttributes`) or is asked for (an audience): one set of rules, so a key or a
// value that can be stored can be targeted, and one that cannot be stored is refused
// where it is given instead of quietly matching nothing (or everything).

/**
 * Names that would reach an object's prototype machinery rather than a property of its
 * own (`attrs['__proto__'] = x` sets the prototype and drops the key).
 */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The own enumerable string-keyed entries of a plain object (prototype `Object.prototype`
 * or `null`), or undefined for anything else: arrays, Maps, Dates, class instances, an
 * object that inherits properties, or one with symbol keys, hidden (non-enumerable) keys
 * or getters (which could answer differently each time they are read).
 */
export function ownEntries(value: unknown): [string, unknown][] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const descriptors = Object.getOwnPropertyDescriptors(value);
  if (Object.getOwnPropertySymbols(descriptors).length > 0) return undefined;
  const entries: [string, unknown][] = [];
  for (const [key, descriptor] of Object.entries(descriptors)) {
    if (!descriptor.enumerable || !('value' in descriptor)) return undefined;
    entries.push([key, descriptor.value]);
  }
  return entries;
}

/** Why `key` cannot name an attribute, or undefined when it can. */
export function attributeKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'empty-key';
  if (key.length > requestLimits.attributeKey) return 'key-too-long';
  if (RESERVED_KEYS.has(key)) return 'reserved-key';
  if (!isPlainText(key)) return 'control-or-lone-surrogate';
  return undefined;
}

/** Why `value` cannot be an attribute's value (a string, a finite number or a boolean), or undefined when it can. */
export function attributeValueProblem(value: unknown): string | undefined {
  if (typeof value === 'string') {
    if (value.length > requestLimits.attributeValue) return 'too-long';
    if (!isPlainText(value)) return 'control-or-lone-surrogate';
    return undefined;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'not-finite';
  if (typeof value === 'boolean') return undefined;
  return 'not-scalar';
}

/**
 * No control characters (C0, DEL, C1) and no lone surrogates: attributes end up in
 * logs, terminals and other systems' queries, where either can do harm or break JSON
 * (PostgreSQL's JSONB refuses both `\u0000` and a lone surrogate).
 */
export function isPlainText(text: string): boolean {
  return !/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
