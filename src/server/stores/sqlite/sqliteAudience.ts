import type { Audience, SubscriptionQuery } from '../../audience/Audience.js';

/** A WHERE clause over `subscriptions` (empty: every row) and the parameters it binds. */
export interface SqliteWhere {
  sql: string;
  params: unknown[];
}

/**
 * Compiles a checked query (ids and audience, paging aside) to SQL over the
 * `subscription_attributes` table, one row per attribute whose (key, value) index answers
 * each test. Keys and values are only ever bound parameters; values are compared as the
 * JSON text they are stored as, so `'7'` and `7` stay apart. The statement grows with the
 * audience's terms, which checkAudience bounds; a list of values or ids is one parameter
 * (a JSON array read with json_each) however long it is.
 */
export function sqliteWhere(query: SubscriptionQuery): SqliteWhere {
  const params: unknown[] = [];
  const parts: string[] = [];
  if (query.ids) {
    parts.push('id IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(query.ids));
  }
  const audience = audienceSql(query, params);
  if (audience) parts.push(audience);
  return { sql: parts.join(' AND '), params };
}

/** The audience's parts ANDed, or '' when it has none. */
function audienceSql(audience: Audience, params: unknown[]): string {
  const parts: string[] = [];
  for (const [key, match] of Object.entries(audience.attributes ?? {})) {
    if (Array.isArray(match)) {
      parts.push('id IN (SELECT subscription_id FROM subscription_attributes WHERE key = ? AND value IN (SELECT value FROM json_each(?)))');
      params.push(key, JSON.stringify(match.map((value) => JSON.stringify(value))));
    } else if (typeof match === 'object') {
      parts.push(`id ${match.present ? 'IN' : 'NOT IN'} (SELECT subscription_id FROM subscription_attributes WHERE key = ?)`);
      params.push(key);
    } else {
      parts.push('id IN (SELECT subscription_id FROM subscription_attributes WHERE key = ? AND value = ?)');
      params.push(key, JSON.stringify(match));
    }
  }
  if (audience.any) parts.push(`(${audience.any.map((part) => `(${audienceSql(part, params)})`).join(' OR ')})`);
  if (audience.not) parts.push(`NOT (${audienceSql(audience.not, params)})`);
  return parts.join(' AND ');
}
