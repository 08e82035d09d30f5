import type { Pool, PoolClient } from 'pg';
import { TidingsError } from '../shared/TidingsError.js';

/**
 * Runs `work` on one connection checked out of `pool` (a transaction, the schema's
 * statements), safe from the connection dying under it. While a client is checked out
 * the pool does not listen to it, and pg emits a dropped connection as an 'error' event
 * that, unheard, ends the process: here it is heard, and the statement in flight rejects.
 * What PostgreSQL or the connection refused rejects as `store-failed`; an error of `work`'s
 * own (a decision it made) passes through as it is. A client that failed goes back to the
 * pool with its error, so the pool closes it rather than hand it to the next call.
 */
export async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch((cause: Error) => {
    throw new TidingsError('store-failed', { reason: `cannot connect to PostgreSQL: ${cause.message}`, cause });
  });
  let dropped: Error | undefined;
  const heard = (error: Error): void => {
    dropped ??= error;
  };
  client.on('error', heard);
  let failed: Error | undefined;
  try {
    return await work(client);
  } catch (error) {
    failed = error as Error;
    if (error instanceof TidingsError || (!dropped && !isDatabaseError(error))) throw error;
    throw new TidingsError('store-failed', { reason: `PostgreSQL: ${(error as Error).message}`, cause: error });
  } finally {
    client.removeListener('error', heard);
    client.release(failed ?? dropped);
  }
}

/** An error PostgreSQL answered (pg's DatabaseError carries the server's severity and SQLSTATE). */
function isDatabaseError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { severity?: unknown }).severity === 'string';
}
