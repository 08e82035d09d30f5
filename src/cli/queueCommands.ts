// `tidings sender` and `tidings send --redis`: durable sends through the queue
// (tidings/queue, BullMQ on Redis), with subscriptions in PostgreSQL or SQLite.
import { existsSync } from 'node:fs';
import type { QueueConnectionOptions } from '../queue/index.js';
import type { SubscriptionStore } from '../server/index.js';
import { options } from './options.js';
import { portOption } from './portOption.js';
import { progressReporter } from './progressReporter.js';
import { messageFlags, messageFromFlags, vapidFromEnv } from './sendOptions.js';
import { serveMetrics } from './serveMetrics.js';
import { UsageError } from './UsageError.js';

const connectionFlags = {
  redis: { type: 'string' },
  store: { type: 'string' },
  env: { type: 'string' },
  schema: { type: 'string' },
  queue: { type: 'string' },
  'allow-loopback': { type: 'boolean' },
} as const;

interface ConnectionValues {
  redis?: string | undefined;
  store?: string | undefined;
  env?: string | undefined;
  schema?: string | undefined;
  queue?: string | undefined;
  'allow-loopback'?: boolean | undefined;
}

function integer(value: string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${flag} must be a whole number >= ${min}`);
  return Number(value);
}

/** The shared options of queue and sender, and the store (closed by the caller). */
async function connect(values: ConnectionValues, command: string): Promise<QueueConnectionOptions> {
  if (!values.redis) throw new UsageError(`${command} needs --redis redis://HOST:6379`);
  if (!/^rediss?:\/\//.test(values.redis)) throw new UsageError('--redis must be a redis:// or rediss:// URL');
  if (!values.store) throw new UsageError(`${command} needs --store postgres://… or --store FILE.db`);
  const vapid = vapidFromEnv(values.env);
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
  const shared: QueueConnectionOptions = { redis: values.redis, store, vapid, allowLoopbackEndpoints: Boolean(values['allow-loopback']) };
  if (values.queue !== undefined) shared.name = values.queue;
  return shared;
}

/** Turns the library's errors into usage errors (exit 2, one line), as the other commands do. */
async function guarded(run: () => Promise<number>): Promise<number> {
  const { isTidingsError } = await import('../queue/index.js');
  try {
    return await run();
  } catch (error) {
    if (isTidingsError(error)) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * `--stall-timeout MS`: the longest a lost sender's batch waits, split as the defaults
 * split their 10 s: a lock that lapses after four fifths of it, checked every fifth (1 s at least).
 */
function stallOptions(ms: number): { lockDuration: number; stalledInterval: number } {
  const stalledInterval = Math.max(1000, Math.round(ms / 5));
  return { lockDuration: ms - stalledInterval, stalledInterval };
}

/** `tidings sender`: delivers queued sends until SIGTERM or SIGINT; with --metrics-port, serves its metrics meanwhile. */
export async function sender(args: string[]): Promise<number> {
  const values = options(args, {
    ...connectionFlags,
    concurrency: { type: 'string' },
    'stall-timeout': { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
  });
  const concurrency = integer(values.concurrency, '--concurrency');
  const stallTimeout = integer(values['stall-timeout'], '--stall-timeout', 2000);
  const metricsPort = portOption(values['metrics-port'], '--metrics-port');
  if (values['metrics-host'] !== undefined && metricsPort === undefined) throw new UsageError('--metrics-host needs --metrics-port');
  const metricsHost = values['metrics-host'] ?? '127.0.0.1';
  const { startSendWorker } = await import('../queue/index.js');
  // Listen first: a SIGTERM while connecting still ends in a clean exit.
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return guarded(async () => {
    // Inside guarded: a store option the library refuses (--schema 'a"b') is a usage error too.
    const shared = await connect(values, 'sender');
    try {
      const worker = await startSendWorker({
        ...shared,
        ...(concurrency ? { concurrency } : {}),
        ...(stallTimeout ? stallOptions(stallTimeout) : {}),
        ...(metricsPort !== undefined ? { metrics: true } : {}),
      });
      const served = worker.metrics && (await serveMetrics(worker.metrics, metricsPort!, metricsHost, (error) => console.error('tidings:', error)).catch(async (error: Error) => {
        await worker.close();
        throw new UsageError(`--metrics-port ${metricsPort}: cannot listen on ${metricsHost} (${error.message})`);
      }));
      process.stdout.write(`tidings sender ${process.pid}: taking sends from queue "${shared.name ?? 'tidings'}" (SIGTERM stops it)\n`);
      if (served) process.stdout.write(`tidings sender ${process.pid}: metrics at ${served.url}\n`);
      const signal = await stopped;
      process.stdout.write(`tidings sender ${process.pid}: ${signal}, finishing the batch in flight\n`);
      await served?.close();
      await worker.close();
      process.stdout.write(`tidings sender ${process.pid}: stopped\n`);
      return 0;
    } finally {
      await shared.store.close();
    }
  });
}

/** `tidings send --redis`: queues the send, then (unless --no-wait) shows its progress until done. */
export async function queueSend(args: string[]): Promise<number> {
  const values = options(args, {
    ...connectionFlags,
    ...messageFlags,
    'batch-size': { type: 'string' },
    'no-wait': { type: 'boolean' },
  });
  const { envelope, sendOptions } = messageFromFlags(values);
  const batchSize = integer(values['batch-size'], '--batch-size');
  const { createSendQueue } = await import('../queue/index.js');
  return guarded(async () => {
    const shared = await connect(values, 'send');
    let queue: ReturnType<typeof createSendQueue> | undefined;
    try {
      queue = createSendQueue({ ...shared, ...(batchSize ? { batchSize } : {}) });
      const { id, scheduledAt } = await queue.send(envelope, sendOptions);
      if (scheduledAt !== undefined) {
        process.stdout.write(`message ${id}: scheduled for ${new Date(scheduledAt).toISOString()} (tidings status ${id} follows it)\n`);
        return 0;
      }
      if (values['no-wait']) {
        process.stdout.write(`${id}\n`);
        return 0;
      }
      const progress = progressReporter(process.stdout, id);
      const final = await queue.wait(id, { onProgress: progress.update });
      progress.end();
      process.stdout.write(`message ${id}: ${final.state === 'cancelled' ? 'cancelled, ' : ''}sent ${final.sent}, gone ${final.gone}, failed ${final.failed}${final.capped ? `, capped ${final.capped}` : ''}\n`);
      if (final.state === 'failed') process.stderr.write(`send failed: ${final.error ?? 'unknown error'}\n`);
      return final.state === 'failed' || final.failed > 0 ? 1 : 0;
    } finally {
      await queue?.close();
      await shared.store.close();
    }
  });
}
