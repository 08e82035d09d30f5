import type { TidingsEvent } from '../shared/protocol.js';
import { newId } from './newId.js';
import type { StoredSubscription, SubscriptionQuery, SubscriptionStore } from './SubscriptionStore.js';

/** A store in process memory, for tests and demos: everything is gone when the process ends. */
export function memoryStore(): SubscriptionStore {
  const subscriptions = new Map<string, StoredSubscription>();
  const byEndpoint = new Map<string, string>();
  const events = new Map<string, TidingsEvent>();
  const messages = new Map<string, { body: string; expiresAt: number }>();

  const matches = (entry: StoredSubscription, query: SubscriptionQuery): boolean =>
    Object.entries(query.attributes ?? {}).every(([key, value]) => entry.attributes[key] === value);

  return {
    async saveSubscription({ subscription, sealKey, attributes }) {
      const now = Date.now();
      const known = byEndpoint.get(subscription.endpoint);
      const previous = known === undefined ? undefined : subscriptions.get(known);
      const id = previous?.id ?? newId();
      const entry: StoredSubscription = {
        id,
        subscription: structuredClone(subscription),
        attributes: { ...(attributes ?? {}) },
        createdAt: previous?.createdAt ?? now,
        updatedAt: now,
      };
      if (sealKey) entry.sealKey = { ...sealKey };
      subscriptions.set(id, entry);
      byEndpoint.set(subscription.endpoint, id);
      return { id, created: previous === undefined };
    },
    async getSubscription(id) {
      const entry = subscriptions.get(id);
      return entry && structuredClone(entry);
    },
    async deleteSubscription(id) {
      const entry = subscriptions.get(id);
      if (!entry) return false;
      subscriptions.delete(id);
      byEndpoint.delete(entry.subscription.endpoint);
      return true;
    },
    async findSubscriptions(query = {}) {
      const candidates = query.ids
        ? [...new Set(query.ids)].flatMap((id) => subscriptions.get(id) ?? [])
        : [...subscriptions.values()];
      let found = candidates.filter((entry) => matches(entry, query));
      if (query.limit !== undefined) {
        const { after, limit } = query;
        found = found
          .filter((entry) => after === undefined || entry.id > after)
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .slice(0, limit);
      }
      return found.map((entry) => structuredClone(entry));
    },
    async addEvents(list) {
      let added = 0;
      for (const event of list) {
        if (events.has(event.id)) continue;
        events.set(event.id, { ...event });
        added++;
      }
      return added;
    },
    async listEvents(query = {}) {
      const out: TidingsEvent[] = [];
      for (const event of events.values()) {
        if (query.messageId !== undefined && event.messageId !== query.messageId) continue;
        if (query.type !== undefined && event.type !== query.type) continue;
        out.push({ ...event });
        if (out.length >= (query.limit ?? 1000)) break;
      }
      return out;
    },
    async saveMessage(id, body, expiresAt) {
      messages.set(id, { body, expiresAt });
    },
    async getMessage(id) {
      const entry = messages.get(id);
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        messages.delete(id);
        return undefined;
      }
      return entry.body;
    },
    async close() {},
  };
}
