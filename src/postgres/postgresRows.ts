import type { Attributes, SealKey } from '../shared/protocol.js';
import type { CapEntry, StoredSubscription } from '../server/stores/SubscriptionStore.js';

/** A row of the subscriptions table as `pg` reads it (BIGINT comes back as text). */
export interface SubscriptionRow {
  id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  expiration_time: string | null;
  seal_key: SealKey | null;
  attributes: Attributes;
  created_at: string;
  updated_at: string;
  failing_since: string | null;
  identity_keys: string[] | null;
  recent_pushes: CapEntry[] | null;
  service: string | null;
  browser: string | null;
  last_sent_at: string | null;
}

export function fromRow(row: SubscriptionRow): StoredSubscription {
  const entry: StoredSubscription = {
    id: row.id,
    subscription: {
      endpoint: row.endpoint,
      expirationTime: row.expiration_time === null ? null : Number(row.expiration_time),
      keys: { p256dh: row.p256dh, auth: row.auth },
    },
    attributes: row.attributes,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
  if (row.seal_key) entry.sealKey = row.seal_key;
  if (row.failing_since !== null) entry.failingSince = Number(row.failing_since);
  if (row.identity_keys) entry.identityKeys = row.identity_keys;
  if (row.recent_pushes) entry.recentPushes = row.recent_pushes;
  entry.browser = row.browser ?? 'unknown';
  if (row.last_sent_at !== null) entry.lastSentAt = Number(row.last_sent_at);
  return entry;
}
