import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import pg from 'pg';
import { postgresStore } from '../../src/postgres/index.js';
import { memoryStore, sqliteStore, type SubscriptionStore } from '../../src/server/index.js';
import { freshName, postgresUrl, serviceAnswers } from './services.js';

/**
 * Every built-in store, as [name, make a fresh empty one], for tests that must hold on
 * each: memory, a new SQLite file, and (when PostgreSQL answers) a new schema. What they
 * leave is removed after the file's tests. Call at the top level of a test file.
 */
export async function storeKinds(): Promise<[string, () => SubscriptionStore][]> {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-stores-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const kinds: [string, () => SubscriptionStore][] = [
    ['memoryStore', () => memoryStore()],
    ['sqliteStore', () => sqliteStore(join(dir, `store-${files++}.db`))],
  ];
  if (await serviceAnswers('PostgreSQL', postgresUrl)) {
    const schemas: string[] = [];
    kinds.push([
      'postgresStore',
      () => {
        schemas.push(freshName('tidings_kinds'));
        return postgresStore({ connectionString: postgresUrl, schema: schemas.at(-1)! });
      },
    ]);
    afterAll(async () => {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
  }
  return kinds;
}
