import type { PoolClient } from 'pg';
import { newId } from '../server/crypto/newId.js';
import type { DecideSave } from '../server/stores/SubscriptionStore.js';
import type { RegisterRequest } from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';
import { fromRow, type SubscriptionRow } from './postgresRows.js';
import { pushServiceOf } from '../server/stats/classify.js';
import { addToHours } from './postgresRollups.js';

/**
 * `saveSubscription` inside the caller's transaction: the endpoint's row is read with
 * `FOR UPDATE`, so a concurrent registration of it waits until this one commits and then
 * decides on what this one wrote. A new endpoint has no row to lock: the INSERT says
 * `ON CONFLICT (endpoint) DO NOTHING`, and when another transaction inserted it first
 * (its commit is waited for), the row is read again, locked, and decided on.
 */
export async function saveInTransaction(
  client: PoolClient,
  t: (table: string) => string,
  request: RegisterRequest,
  decide: DecideSave | undefined,
): Promise<{ id: string; created: boolean }> {
  const { subscription, sealKey } = request;
  const table = t('subscriptions');
  // A row inserted by one and deleted by another between our two reads sends us round
  // again; three rounds of that in one registration is no longer a race but a fault.
  for (let round = 0; round < 3; round++) {
    const { rows } = await client.query<SubscriptionRow>(`SELECT * FROM ${table} WHERE endpoint = $1 FOR UPDATE`, [subscription.endpoint]);
    const existing = rows[0] && fromRow(rows[0]);
    const decision = decide ? decide(existing) : { attributes: request.attributes ?? {} };
    const values = [
      subscription.keys.p256dh,
      subscription.keys.auth,
      subscription.expirationTime ?? null,
      sealKey ? JSON.stringify(sealKey) : null,
      JSON.stringify(decision.attributes),
      decision.identityKeys ? JSON.stringify(decision.identityKeys) : null,
      Date.now(),
      pushServiceOf(subscription.endpoint),
      decision.browser ?? existing?.browser ?? 'unknown',
    ];
    if (existing) {
      await client.query(
        `UPDATE ${table} SET p256dh = $2, auth = $3, expiration_time = $4, seal_key = $5, attributes = $6, identity_keys = $7, updated_at = $8,
           service = $9, browser = $10
         WHERE id = $1`,
        [existing.id, ...values],
      );
      return { id: existing.id, created: false };
    }
    const id = newId();
    const inserted = await client.query(
      `INSERT INTO ${table} (id, endpoint, p256dh, auth, expiration_time, seal_key, attributes, identity_keys, created_at, updated_at, service, browser)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)
       ON CONFLICT (endpoint) DO NOTHING`,
      [id, subscription.endpoint, ...values],
    );
    if (inserted.rowCount === 1) {
      await addToHours(client, t, [{ at: Date.now(), column: 'subscribed', n: 1 }]);
      return { id, created: true };
    }
  }
  throw new TidingsError('store-failed', { reason: `the row of endpoint ${subscription.endpoint} kept changing during registration` });
}
