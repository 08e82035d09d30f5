import type { AudienceData, SubscriptionRow } from '../protocol.js';
import type { DashboardPush } from '../dashboardTypes.js';
import type { AttributeMatch, PushStats, SubscriptionSummary } from '../statsContract.js';

/** Subscriptions listed per search page. */
export const FOUND_PAGE = 50;

export interface AudienceQuery {
  /** Count by this attribute. */
  by?: string;
  /** Find the subscriptions whose attribute `key` is `value`. */
  key?: string;
  value?: string;
  after?: string;
}

/**
 * The Audience page: counts by push service, browser and one attribute (`stats`), or only
 * the total (`count()`); and one person's subscriptions by an identity attribute. Counts
 * by the identity attribute itself are not asked for: it has a value per person, so they
 * would be a list of everyone once (the dearest count a store makes, for no chart).
 */
export async function audienceData(
  push: DashboardPush,
  stats: PushStats | undefined,
  query: AudienceQuery,
  { richAudiences, identityAttribute }: { richAudiences: boolean; identityAttribute: string },
): Promise<AudienceData> {
  const data: AudienceData = {};
  if (!stats) {
    if (push.count) data.subscribers = { total: await push.count(undefined), byService: {}, byBrowser: {} };
    return data;
  }
  const found = query.key && query.value !== undefined && query.value !== '' ? { key: query.key, value: query.value } : undefined;
  const byIdentity = query.by === identityAttribute;
  const [subscribers, page] = await Promise.all([
    stats.subscribers(query.by && !byIdentity ? { by: query.by } : {}),
    found
      ? stats.subscriptions({ to: { attributes: { [found.key]: identityMatch(found.value, richAudiences) } }, limit: FOUND_PAGE, ...(query.after ? { after: query.after } : {}) })
      : undefined,
  ]);
  data.subscribers = { total: subscribers.total, byService: subscribers.byService, byBrowser: subscribers.byBrowser };
  if (subscribers.byAttribute) data.subscribers.byAttribute = subscribers.byAttribute;
  if (byIdentity) data.subscribers.byIdentity = true;
  if (found && page) {
    data.found = { ...found, items: page.items.map(subscriptionRow) };
    if (page.next) data.found.next = page.next;
  }
  return data;
}

/**
 * What a typed identity matches. Attributes compare with their type (`'42'` is not `42`),
 * and a site's `identify` may store either: with lists in audiences, a number-like text
 * matches both.
 */
function identityMatch(value: string, richAudiences: boolean): AttributeMatch {
  if (richAudiences && /^-?\d{1,15}(\.\d+)?$/.test(value)) return [value, Number(value)];
  return value;
}

/** Named fields only: whatever else a store hands back (an endpoint is a capability) stays out. */
function subscriptionRow(item: SubscriptionSummary): SubscriptionRow {
  const row: SubscriptionRow = {
    id: item.id,
    service: item.service,
    browser: item.browser,
    host: item.host,
    attributes: item.attributes,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
  if (item.failingSince !== undefined) row.failingSince = item.failingSince;
  if (item.lastSentAt !== undefined) row.lastSentAt = item.lastSentAt;
  return row;
}
