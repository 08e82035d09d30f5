// `tidings status ID` and `tidings cancel ID`: a send's record, from the store's send log
// (a plain or scheduled send) or, with --redis, from the queue.
import { existsSync } from 'node:fs';
import type { SendRecord, SubscriptionStore } from '../server/index.js';
import type { SendStatus } from '../queue/index.js';
import { options } from './options.js';
import { UsageError } from './UsageError.js';

const flags = {
  store: { type: 'string' },
  redis: { type: 'string' },
  schema: { type: 'string' },
  queue: { type: 'string' },
} as const;

/** One line about a send: its state, when, and its counts. */
export function describeSend(record: SendRecord | SendStatus): string {
  const parts = [`message ${record.id}: ${record.state}`];
  if ('scheduledAt' in record && record.scheduledAt !== undefined && record.state === 'scheduled') parts[0] += ` for ${new Date(record.scheduledAt).toISOString()}`;
  const counts: [string, number | undefined][] = [
    ['targeted', 'targeted' in record ? record.targeted : record.total],
    ['sent', record.sent],
    ['gone', record.gone],
    ['failed', record.failed],
    ['capped', record.capped],
    ['deferred', record.deferred],
  ];
  parts.push(counts.filter(([, n]) => n !== undefined).map(([name, n]) => `${name} ${n}`).join(', '));
  return parts.join(', ');
}

/** `status` or `cancel` of one send id. */
export async function sendRecordCommand(command: 'status' | 'cancel', args: string[]): Promise<number> {
  const id = args[0];
  if (id === undefined || id.startsWith('-')) throw new UsageError(`${command} needs a message id: tidings ${command} ID --store …`);
  const values = options(args.slice(1), flags);
  if (!values.store) throw new UsageError(`${command} needs --store FILE.db or --store postgres://…`);
  // Reading and cancelling send nothing: the keys only satisfy the constructors.
  const { generateVapidKeys, isTidingsError } = await import('../server/index.js');
  const vapid = { ...generateVapidKeys(), subject: 'mailto:cli@tidings.invalid' };
  let store: SubscriptionStore;
  if (/^postgres(ql)?:\/\//.test(values.store)) {
    const { postgresStore } = await import('../postgres/index.js');
    store = postgresStore({ connectionString: values.store, ...(values.schema ? { schema: values.schema } : {}) });
  } else {
    if (values.schema) throw new UsageError('--schema is for a postgres:// store');
    if (!existsSync(values.store)) throw new UsageError(`store ${values.store} does not exist`);
    const { sqliteStore } = await import('../server/index.js');
    store = sqliteStore(values.store);
  }
  try {
    let record: SendRecord | SendStatus | undefined;
    if (values.redis) {
      if (!/^rediss?:\/\//.test(values.redis)) throw new UsageError('--redis must be a redis:// or rediss:// URL');
      const { createSendQueue } = await import('../queue/index.js');
      const queue = createSendQueue({ redis: values.redis, store, vapid, ...(values.queue ? { name: values.queue } : {}) });
      try {
        record = command === 'cancel' ? await queue.cancel(id) : await queue.status(id).catch((error: unknown) => {
          if (isTidingsError(error, 'queue-failed') && /^no send with id /.test(String(error.details.reason))) return undefined;
          throw error;
        });
      } finally {
        await queue.close();
      }
    } else {
      const { createPushServer } = await import('../server/index.js');
      const push = createPushServer({ vapid, store });
      record = command === 'cancel' ? await push.cancel(id) : await push.status(id);
    }
    if (!record) {
      process.stderr.write(`tidings: no send with id ${id}\n`);
      return 1;
    }
    process.stdout.write(`${describeSend(record)}\n`);
    return 0;
  } catch (error) {
    if (isTidingsError(error)) throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}
