// The query language of audiences: who a send, a count, a tag or a removal reaches.
// Checked as a whole by checkAudience.ts (the one place), compiled by each store: to SQL
// with bound parameters (sqliteAudience.ts, postgresAudience.ts), to a predicate for
// memoryStore (matchesAudience.ts).

/** What an attribute holds: a string, a finite number or a boolean. */
export type AttributeValue = string | number | boolean;

/**
 * What one attribute must be for a subscription to match: a value (equal to it, type
 * included: `'7'` is not `7`), a non-empty list (equal to any of them), or
 * `{ present: true }` / `{ present: false }` (the key is there, whatever its value / is not).
 */
export type AttributeMatch = AttributeValue | AttributeValue[] | { present: boolean };

/**
 * Which subscriptions match: every part given must hold (AND), and at least one part
 * must be given (`{}` is refused: "everyone" is a send without `to`).
 *
 * ```js
 * { attributes: { team: ['red', 'blue'], vip: { present: true } } }  // (red or blue) and vip
 * { any: [{ attributes: { sports: true } }, { attributes: { news: true } }],
 *   not: { attributes: { promos: false } } }                         // (sports or news) but not promos: false
 * ```
 */
export interface Audience {
  /** Each named attribute must match (see AttributeMatch). */
  attributes?: Record<string, AttributeMatch>;
  /** At least one of these audiences must match (OR); a non-empty list. */
  any?: Audience[];
  /** This audience must not match (BUT NOT). */
  not?: Audience;
}

/** Who a send goes to: a subscription id, a list of ids, or an audience. */
export type SendTarget = string | string[] | Audience;

/**
 * What a store is asked for: an audience (already checked, see checkAudience), ids, or
 * both (a subscription must then be in the ids and match); neither means every
 * subscription.
 */
export interface SubscriptionQuery extends Audience {
  /** Only these subscriptions (an empty list: none). */
  ids?: string[];
  /**
   * Paging, which send() always asks for: with `limit`, answer at most that many matches,
   * the first in id order (plain string order, as SQL's ORDER BY id) among those whose id
   * is greater than `after` (when given). Without `limit`, every match, in any order.
   */
  limit?: number;
  after?: string;
}

/** Attributes to merge into subscriptions (`push.setAttributes`): a value sets the key, `null` removes it. */
export type AttributeChanges = Record<string, AttributeValue | null>;

/**
 * Bounds on one audience, so that no audience object, however it was made, turns into
 * a huge SQL statement or a deep recursion: nesting of `any`/`not`, and terms (each
 * value compared and each presence test counts one).
 */
export const audienceLimits = {
  depth: 4,
  terms: 256,
} as const;
