// `tidings stats [ID]`: the send log and one message's funnel, read from the store (and
// with --redis, the live counts of queued sends still running).
import type { MessageStats, MessageSummary } from '../server/index.js';
import { openStore } from './openStore.js';
import { options } from './options.js';
import { messageReport, safeJson, sendsTable } from './statsTables.js';
import { UsageError } from './UsageError.js';

const UNFINISHED = ['scheduled', 'queued', 'running'];

export async function stats(args: string[]): Promise<number> {
  // The message id, if any, comes first: tidings stats ID --store …
  const id = args[0] !== undefined && !args[0].startsWith('-') ? args[0] : undefined;
  const values = options(id === undefined ? args : args.slice(1), {
    store: { type: 'string' },
    schema: { type: 'string' },
    redis: { type: 'string' },
    queue: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!values.store) throw new UsageError('stats needs --store FILE.db or --store postgres://…');
  if (values.redis !== undefined && !/^rediss?:\/\//.test(values.redis)) throw new UsageError('--redis must be a redis:// or rediss:// URL');
  if (values.queue !== undefined && values.redis === undefined) throw new UsageError('--queue goes with --redis');
  if (values.limit !== undefined && !(/^\d+$/.test(values.limit) && Number(values.limit) >= 1 && Number(values.limit) <= 500)) {
    throw new UsageError('--limit must be a whole number from 1 to 500');
  }
  const store = await openStore(values.store, values.schema);
  const { createPushStats, isTidingsError } = await import('../server/index.js');
  const live = values.redis ? await liveQueue(values.redis, values.queue ?? 'tidings') : undefined;
  try {
    const stats = createPushStats(store);
    if (id !== undefined) {
      const message = await stats.message(id);
      if (!message) {
        process.stderr.write(`tidings: no send with id ${JSON.stringify(id)} in the send log\n`);
        return 1;
      }
      const shown = live ? await live.refresh(message) : message;
      process.stdout.write(`${values.json ? safeJson(shown) : messageReport(shown)}\n`);
      return 0;
    }
    const page = await stats.messages({ limit: Number(values.limit ?? 20) });
    const items = live ? await Promise.all(page.items.map((item: MessageSummary) => live.refresh(item))) : page.items;
    process.stdout.write(`${values.json ? safeJson({ ...page, items }) : sendsTable(items)}\n`);
    return 0;
  } catch (error) {
    if (isTidingsError(error)) throw new UsageError(error.message);
    throw error;
  } finally {
    await live?.close();
    await store.close();
  }
}

/**
 * The queue's ledger in Redis, for sends it is still running: their counts there are
 * ahead of the send log, which senders write once per batch. Nothing is written.
 */
async function liveQueue(redis: string, name: string) {
  const { Queue } = (await import('bullmq')) as typeof import('bullmq');
  const { createSendLedger } = await import('../queue/createSendLedger.js');
  const { mergeSendUpdate } = await import('../server/index.js');
  const queue = new Queue(name, { connection: { url: redis, maxRetriesPerRequest: 2 } });
  queue.on('error', () => {});
  const ledger = createSendLedger((await queue.client) as never, name);
  return {
    async refresh<T extends MessageSummary | MessageStats>(record: T): Promise<T> {
      if (record.via !== 'queue' || !UNFINISHED.includes(record.state)) return record;
      const byService = 'byService' in record ? record.byService : {};
      const services = Object.fromEntries(Object.entries(byService).map(([name, { sent, gone, failed }]) => [name, { sent, gone, failed }]));
      const { send } = mergeSendUpdate({ ...record, services }, await ledger.progress(record.id));
      const { services: merged, ...fresh } = send;
      const out = { ...record, ...fresh };
      if ('byService' in out) {
        for (const [name, outcomes] of Object.entries(merged)) Object.assign((out.byService[name] ??= { delivered: 0, shown: 0, clicked: 0, closed: 0, workerFailed: 0, ...outcomes }), outcomes);
        out.errors = [...fresh.failures].sort((a, b) => b.count - a.count);
      }
      return out;
    },
    close: () => queue.close(),
  };
}
