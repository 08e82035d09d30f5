// tidings/postgres: the PostgreSQL store, for sites that outgrow one machine. Node 20+,
// with the `pg` package installed (an optional peer dependency).

export { postgresStore } from './postgresStore.js';

export type { PostgresStoreOptions } from './postgresStore.js';
export type { StoredSubscription, SubscriptionQuery, SubscriptionStore } from '../server/stores/SubscriptionStore.js';
