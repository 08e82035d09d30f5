import { existsSync } from 'node:fs';
import type { SubscriptionStore } from '../server/index.js';
import { UsageError } from './UsageError.js';

/** The store a command's `--store` names: `postgres://…` (with `--schema`) or an existing SQLite file. */
export async function openStore(store: string, schema: string | undefined): Promise<SubscriptionStore> {
  if (/^postgres(ql)?:\/\//.test(store)) {
    const { postgresStore } = await import('../postgres/index.js');
    return postgresStore({ connectionString: store, ...(schema ? { schema } : {}) });
  }
  if (schema) throw new UsageError('--schema is for a postgres:// store');
  if (!existsSync(store)) throw new UsageError(`store ${store} does not exist`);
  const { sqliteStore } = await import('../server/index.js');
  return sqliteStore(store);
}
