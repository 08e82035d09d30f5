import type { Attributes } from '../../shared/protocol.js';
import type { Audience } from './Audience.js';

/**
 * Whether a subscription's attributes match an audience: the predicate memoryStore uses,
 * and one a site's own store may use where its database cannot express an audience.
 * Reads own properties only, so `{ present: true }` on `constructor` is never answered
 * by Object.prototype.
 */
export function matchesAudience(attributes: Attributes, audience: Audience): boolean {
  for (const [key, match] of Object.entries(audience.attributes ?? {})) {
    const has = Object.hasOwn(attributes, key);
    if (Array.isArray(match)) {
      if (!has || !match.includes(attributes[key]!)) return false;
    } else if (typeof match === 'object') {
      if (has !== match.present) return false;
    } else if (!has || attributes[key] !== match) {
      return false;
    }
  }
  if (audience.any && !audience.any.some((part) => matchesAudience(attributes, part))) return false;
  if (audience.not && matchesAudience(attributes, audience.not)) return false;
  return true;
}
