// `tidings send` at once from this process, to the subscriptions in a SQLite store;
// with --redis it is the queue's (queueCommands.ts).
import { existsSync } from 'node:fs';
import type { SubscriptionStore } from '../server/index.js';
import { options } from './options.js';
import { messageFlags, messageFromFlags, vapidFromEnv } from './sendOptions.js';
import { UsageError } from './UsageError.js';

export async function send(args: string[]): Promise<number> {
  if (args.some((arg) => arg === '--redis' || arg.startsWith('--redis='))) return (await import('./queueCommands.js')).queueSend(args);
  const values = options(args, { store: { type: 'string' }, ...messageFlags, 'allow-loopback': { type: 'boolean' } });
  if (!values.store) throw new UsageError('send needs --store FILE.db');
  const { envelope, sendOptions } = messageFromFlags(values);
  if (!existsSync(values.store)) throw new UsageError(`store ${values.store} does not exist`);
  const vapid = vapidFromEnv(values.env);

  const { createPushServer, sqliteStore, isTidingsError } = await import('../server/index.js');
  let store: SubscriptionStore | undefined;
  try {
    store = sqliteStore(values.store);
    const server = createPushServer({ vapid, store, allowLoopbackEndpoints: Boolean(values['allow-loopback']) });
    const result = await server.send(envelope, sendOptions);
    if (result.scheduledAt !== undefined) {
      process.stdout.write(`message ${result.id}: scheduled for ${new Date(result.scheduledAt).toISOString()} (a process with createPushServer({ scheduler: true }) on this store sends it)\n`);
      return 0;
    }
    const capped = result.capped ? `, capped ${result.capped}` : '';
    process.stdout.write(`message ${result.id}: sent ${result.sent}, gone ${result.gone}, failed ${result.failed}${capped}\n`);
    for (const error of result.errors) {
      process.stderr.write(`failed ${error.subscriptionId}${error.status ? ` (HTTP ${error.status})` : ''}: ${error.reason}\n`);
    }
    return result.failed > 0 ? 1 : 0;
  } catch (error) {
    if (isTidingsError(error)) throw new UsageError(error.message);
    throw error;
  } finally {
    await store?.close();
  }
}
