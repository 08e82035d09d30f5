import { TidingsError } from '../../shared/TidingsError.js';
import type { SubscriptionStore } from '../stores/SubscriptionStore.js';

// The option checks createPushServer, the delivery policy and the send queue share, so
// one option is refused with one reason wherever it is given.

export function invalidOption(option: string, reason: string): never {
  throw new TidingsError('invalid-option', { option, reason });
}

/** A whole number >= `min`, or `fallback` when not given. */
export function integerOption(value: number | undefined, fallback: number, option: string, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) invalidOption(option, `must be an integer >= ${min}`);
  return value;
}

/** A path like `/api/push` (or empty), without a trailing slash. */
export function pathOption(value: string | undefined, fallback: string, option: string): string {
  const path = (value ?? fallback).replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)*$/.test(path)) invalidOption(option, 'must be a path like /api/push');
  return path;
}

/** An absolute http(s) URL, or undefined when not given. */
export function httpUrlOption(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    // Refused below.
  }
  if (protocol !== 'http:' && protocol !== 'https:') invalidOption(option, 'must be an absolute http(s) URL');
  return value;
}

/**
 * A list of origins (`https://app.example`, no path and no trailing slash), copied; `[]`
 * when not given. Each item must be exactly what `new URL(item).origin` gives back, so
 * what a request's `Origin` header is compared with can only be an origin.
 */
export function originListOption(value: string[] | undefined, option: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) invalidOption(option, 'must be a list of origins');
  for (const item of value) {
    if (typeof item !== 'string' || !isOrigin(item)) invalidOption(option, `${JSON.stringify(item)} is not an origin like https://example.com`);
  }
  return [...value];
}

function isOrigin(text: string): boolean {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}

/** A SubscriptionStore; `needs` names further methods the caller uses, so a store made for an older tidings is refused at creation, naming what it lacks. */
export function storeOption(store: SubscriptionStore | undefined, needs: (keyof SubscriptionStore)[] = []): SubscriptionStore {
  if (!store || typeof store.findSubscriptions !== 'function') invalidOption('store', 'not a SubscriptionStore');
  for (const method of needs) {
    if (typeof store[method] !== 'function') invalidOption('store', `has no ${method}() (see SubscriptionStore in docs/server.md)`);
  }
  return store;
}
