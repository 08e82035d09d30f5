import type { TidingsEvent } from '../../../shared/protocol.js';
import { TidingsError } from '../../../shared/TidingsError.js';
import { newId } from '../../crypto/newId.js';
import { checkAttributeChanges, checkSubscriptionQuery } from '../../audience/checkAudience.js';
import { matchesAudience } from '../../audience/matchesAudience.js';
import { applyCap } from '../../controls/frequencyCap.js';
import { memorySchedule } from './memorySchedule.js';
import type { StoredSubscription, SubscriptionQuery, SubscriptionStore } from '../SubscriptionStore.js';
import { memoryInsight } from './memoryInsight.js';

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
  const insight = memoryInsight(subscriptions);
  // The ids in order, for paged reads (a send reads the store a page at a time): sorted
  // when first needed after a subscription was added. Sorting the whole store for each
  // page cost a send of 20,000 subscribers 3% of its CPU. A deleted id stays in it, and is
  // skipped, until there are as many of those as half of it.
  let ordered: string[] | undefined;
  let stale = 0;
  const forget = () => {
    if (ordered && ++stale > ordered.length / 2) ordered = undefined;
  };

  /** Stores the events whose ids are new (bounded by maxEvents); resolves to those. */
  const addEvents = (list: TidingsEvent[]): TidingsEvent[] => {
    const added: TidingsEvent[] = [];
    for (const event of list) {
      if (events.has(event.id)) continue;
      events.set(event.id, { ...event });
      added.push(event);
      // A Map iterates in insertion order: its first key is the oldest event.
      if (events.size > maxEvents) events.delete(events.keys().next().value as string);
    }
    return added;
  };

  /** The matches of a checked query, unpaged. */
  const matching = (query: SubscriptionQuery): StoredSubscription[] => {
    const candidates = query.ids ? [...new Set(query.ids)].flatMap((id) => subscriptions.get(id) ?? []) : [...subscriptions.values()];
    return candidates.filter((entry) => matchesAudience(entry.attributes, query));
  };

  /** The first `limit` matches after `query.after`, in id order, from the ordered ids. */
  const page = (query: SubscriptionQuery, limit: number): StoredSubscription[] => {
    if (!ordered) {
      ordered = [...subscriptions.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      stale = 0;
    }
    const { after } = query;
    // The first id past `after`, by binary search.
    let low = 0;
    let high = ordered.length;
    while (after !== undefined && low < high) {
      const middle = (low + high) >>> 1;
      if (ordered[middle]! > after) high = middle;
      else low = middle + 1;
    }
    const found: StoredSubscription[] = [];
    for (let i = low; i < ordered.length && found.length < limit; i++) {
      const entry = subscriptions.get(ordered[i]!);
      if (entry && matchesAudience(entry.attributes, query)) found.push(entry);
    }
    return found;
  };

  return {
    async saveSubscription({ subscription, sealKey, attributes }, decide) {
      // No await from here to the write: nothing else can run between the read and it.
      const now = Date.now();
      const known = byEndpoint.get(subscription.endpoint);
      const previous = known === undefined ? undefined : subscriptions.get(known);
      const decision = decide ? decide(previous && structuredClone(previous)) : { attributes: attributes ?? {} };
      const id = previous?.id ?? newId();
      const entry: StoredSubscription = {
        id,
        subscription: structuredClone(subscription),
        attributes: { ...decision.attributes },
        createdAt: previous?.createdAt ?? now,
        updatedAt: now,
      };
      if (decision.identityKeys) entry.identityKeys = [...decision.identityKeys];
      if (sealKey) entry.sealKey = { ...sealKey };
      if (previous?.failingSince !== undefined) entry.failingSince = previous.failingSince;
      if (previous?.recentPushes) entry.recentPushes = previous.recentPushes;
      if (previous?.lastSentAt !== undefined) entry.lastSentAt = previous.lastSentAt;
      entry.browser = decision.browser ?? previous?.browser ?? 'unknown';
      subscriptions.set(id, entry);
      byEndpoint.set(subscription.endpoint, id);
      if (!previous) {
        ordered = undefined;
        insight.subscriptionsChanged(1, 0);
      }
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
    async capSends(ids, check) {
      // No await: the reads and writes of all ids happen in one turn, as one transaction.
      const capped: string[] = [];
      for (const id of new Set(ids)) {
        const entry = subscriptions.get(id);
        if (!entry) continue;
        const { allowed, record } = applyCap(entry.recentPushes, check);
        if (!allowed) capped.push(id);
        else if (record) entry.recentPushes = record;
      }
      return capped;
    },
    async deleteSubscription(id) {
      const entry = subscriptions.get(id);
      if (!entry) return false;
      subscriptions.delete(id);
      byEndpoint.delete(entry.subscription.endpoint);
      forget();
      insight.subscriptionsChanged(0, 1);
      return true;
    },
    async findSubscriptions(given) {
      const query = checkSubscriptionQuery(given);
      if (query.limit !== undefined && !query.ids) return page(query, query.limit).map((entry) => structuredClone(entry));
      let found = matching(query);
      if (query.limit !== undefined) {
        const { after, limit } = query;
        found = found
          .filter((entry) => after === undefined || entry.id > after)
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .slice(0, limit);
      }
      return found.map((entry) => structuredClone(entry));
    },
    async countSubscriptions(given) {
      return matching(checkSubscriptionQuery(given)).length;
    },
    async updateAttributes(given, changes) {
      // Every match is found before any changes, as a database's UPDATE … WHERE would.
      const found = matching(checkSubscriptionQuery(given));
      const checked = checkAttributeChanges(changes, 'changes');
      const now = Date.now();
      for (const entry of found) {
        for (const [key, value] of Object.entries(checked)) {
          if (value === null) delete entry.attributes[key];
          else entry.attributes[key] = value;
        }
        entry.updatedAt = now;
      }
      return found.length;
    },
    async deleteSubscriptions(given) {
      const found = matching(checkSubscriptionQuery(given));
      for (const entry of found) {
        subscriptions.delete(entry.id);
        byEndpoint.delete(entry.subscription.endpoint);
        forget();
      }
      insight.subscriptionsChanged(0, found.length);
      return found.length;
    },
    async addEvents(list) {
      return addEvents(list).length;
    },
    async recordEvents(batch) {
      return insight.countEvents(batch, addEvents(batch.events));
    },
    async deleteEventsBefore(before) {
      let deleted = 0;
      for (const [id, event] of events) {
        if (event.at >= before) continue;
        events.delete(id);
        deleted++;
      }
      insight.forgetCountedBefore(before);
      return deleted;
    },
    createSend: insight.createSend,
    updateSend: insight.updateSend,
    getSend: insight.getSend,
    listSends: insight.listSends,
    markSent: insight.markSent,
    messageEvents: insight.messageEvents,
    hourlyStats: insight.hourlyStats,
    subscriberCounts: insight.subscriberCounts,
    ...memorySchedule(),
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
