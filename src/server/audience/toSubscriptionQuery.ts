import { invalidOption as invalid } from '../common/checkOptions.js';
import type { SubscriptionQuery } from '../stores/SubscriptionStore.js';

/** Who a send goes to: a subscription id, ids, or attributes every target must match. */
export type SendTarget = string | string[] | { attributes: Record<string, unknown> };

/** Turns send()'s `to` into a store query, refusing what is not an id, ids or {attributes}. */
export function toSubscriptionQuery(to: SendTarget | undefined): SubscriptionQuery {
  if (to === undefined) return {};
  if (typeof to === 'string') return { ids: [to] };
  if (Array.isArray(to)) {
    if (!to.every((id) => typeof id === 'string')) invalid('to', 'ids must be strings');
    return { ids: to };
  }
  if (typeof to === 'object' && to !== null && typeof to.attributes === 'object' && to.attributes !== null) {
    const attributes: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(to.attributes)) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        invalid(`to.attributes.${key}`, 'must be a string, number or boolean');
      }
      attributes[key] = value;
    }
    return { attributes };
  }
  return invalid('to', 'must be an id, a list of ids or {attributes}');
}

