import type { StoredSubscription, SubscriptionStore } from '../stores/SubscriptionStore.js';
import { capTag } from './frequencyCap.js';
import type { SendControls } from './sendControls.js';

/**
 * The subscribers of one page or batch that a send's frequency cap lets through, their
 * pushes recorded in the store first (capSends: one transaction for the page); the rest
 * are counted as `capped` (their ids). A send without a cap anywhere writes nothing.
 */
export async function capPage(
  store: SubscriptionStore,
  page: StoredSubscription[],
  messageId: string,
  controls: SendControls,
  at: number,
): Promise<{ allowed: StoredSubscription[]; capped: string[] }> {
  if (!controls.cap || page.length === 0) return { allowed: page, capped: [] };
  const { check, keep } = controls.cap;
  const capped = await store.capSends(page.map((entry) => entry.id), { tag: capTag(messageId), at, cap: check, keep });
  if (capped.length === 0) return { allowed: page, capped };
  const refused = new Set(capped);
  return { allowed: page.filter((entry) => !refused.has(entry.id)), capped };
}
