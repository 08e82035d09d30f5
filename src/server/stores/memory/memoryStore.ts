import type { TidingsEvent } from '../../../shared/protocol.js';
import { TidingsError } from '../../../shared/TidingsError.js';
import { newId } from '../../crypto/newId.js';
import type { StoredSubscription, SubscriptionQuery, SubscriptionStore } from '../SubscriptionStore.js';

export interface MemoryStoreOptions {
  /** Events kept at most; past it the oldest are dropped, so a flood cannot grow the process. @default 100000 */
  maxEvents?: number;
}

/** A store in process memory, for tests and demos: everything is gone when the process ends. */
export function memoryStore(options: MemoryStoreOptions = {}): SubscriptionStore {
  const maxEvents = options.maxEvents ?? 100_000;
  if (!Number.isInteger(maxEvents) || maxEvents < 1) {
    throw new TidingsError('invalid-option', { option: 'maxEvents', reason: 'must be an integer >= 1' });
  }
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
      if (previous?.failingSince !== undefined) entry.failingSince = previous.failingSince;
      subscriptions.set(id, entry);
      byEndpoint.set(subscription.endpoint, id);
      return { id, created: previous === undefined };
    },
    async getSubscription(id) {
      const entry = subscriptions.get(id);
      return entry && structuredClone(entry);
    },
    async getSubscriptionByEndpoint(endpoint) {
      const id = byEndpoint.get(endpoint);
      const entry = id === undefined ? undefined : subscriptions.get(id);
      return entry && structuredClone(entry);
    },
    async markDelivery(id, failed, at) {
      const entry = subscriptions.get(id);
      if (!entry) return;
      if (!failed) delete entry.failingSince;
      else entry.failingSince ??= at;
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
        // A Map iterates in insertion order: its first key is the oldest event.
        if (events.size > maxEvents) events.delete(events.keys().next().value as string);
      }
      return added;
    },
    async deleteEventsBefore(before) {
      let deleted = 0;
      for (const [id, event] of events) {
        if (event.at >= before) continue;
        events.delete(id);
        deleted++;
      }
      return deleted;
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
