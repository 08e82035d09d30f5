import { invalidOption as invalid } from '../common/checkOptions.js';
import type { SendTarget, SubscriptionQuery } from './Audience.js';
import { checkAudience, idList } from './checkAudience.js';

export type { SendTarget } from './Audience.js';

/**
 * Turns a `to` (send(), the queue, the CLI, count/setAttributes/removeSubscriptions) into
 * a store query: an id, a list of ids, or an audience checked as a whole (checkAudience).
 * Only a missing `to` means every subscription, and only where `everyone` allows it
 * (sends and counts); anything else that would match everyone is refused.
 */
export function toSubscriptionQuery(to: SendTarget | undefined, { field = 'to', everyone = true } = {}): SubscriptionQuery {
  if (to === undefined) return everyone ? {} : invalid(field, 'is required: name ids or an audience');
  if (typeof to === 'string') return { ids: [to] };
  if (Array.isArray(to)) return { ids: idList(to, field) };
  return checkAudience(to, field);
}
