import type { Pool, PoolClient } from 'pg';
import { TidingsError } from '../shared/TidingsError.js';

/**
 * Runs `work` on one connection checked out of `pool` (a transaction, the schema's
 * statements), safe from the connection dying under it. While a client is checked out
 * the pool does not listen to it, and pg emits a dropped connection as an 'error' event
 * that, unheard, ends the process: here it is heard, and the statement in flight rejects,
 * which is what the call reports. A client that failed goes back to the pool with its
 * error, so the pool closes it rather than hand it to the next call.
 */
export async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch((cause: Error) => {
    throw new TidingsError('store-failed', { reason: `cannot connect to PostgreSQL: ${cause.message}`, cause });
  });
  const ignore = (): void => {};
  client.on('error', ignore);
  let failed: Error | undefined;
  try {
    return await work(client);
  } catch (error) {
    failed = error as Error;
    throw error;
  } finally {
    client.removeListener('error', ignore);
    client.release(failed);
  }
}
