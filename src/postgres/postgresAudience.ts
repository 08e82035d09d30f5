import type { Audience, SubscriptionQuery } from '../server/audience/Audience.js';

/**
 * Compiles a checked query (ids and audience, paging aside) to a WHERE clause over the
 * JSONB `attributes`, pushing its parameters onto `params` (numbered after those already
 * there). Equality and any-of are containment (`attributes @> {"k": v}`), which the GIN
 * index (jsonb_path_ops) answers; an any-of list is one `jsonb[]` parameter however long.
 * Presence is `attributes ? k`, which that index cannot serve: an audience made only of
 * presence tests reads every row. Keys and values are only ever bound parameters.
 * Returns '' for a query with neither ids nor an audience.
 */
export function postgresWhere(query: SubscriptionQuery, params: unknown[]): string {
  const parts: string[] = [];
  if (query.ids) {
    params.push(query.ids);
    parts.push(`id = ANY($${params.length}::text[])`);
  }
  const audience = audienceSql(query, params);
  if (audience) parts.push(audience);
  return parts.join(' AND ');
}

function audienceSql(audience: Audience, params: unknown[]): string {
  const parts: string[] = [];
  for (const [key, match] of Object.entries(audience.attributes ?? {})) {
    if (Array.isArray(match)) {
      params.push(match.map((value) => JSON.stringify(Object.fromEntries([[key, value]]))));
      parts.push(`attributes @> ANY($${params.length}::jsonb[])`);
    } else if (typeof match === 'object') {
      params.push(key);
      parts.push(`${match.present ? '' : 'NOT '}(attributes ? $${params.length})`);
    } else {
      // fromEntries makes an own property even of a key the checks would refuse anyway.
      params.push(JSON.stringify(Object.fromEntries([[key, match]])));
      parts.push(`attributes @> $${params.length}::jsonb`);
    }
  }
  if (audience.any) parts.push(`(${audience.any.map((part) => `(${audienceSql(part, params)})`).join(' OR ')})`);
  if (audience.not) parts.push(`NOT (${audienceSql(audience.not, params)})`);
  return parts.join(' AND ');
}
