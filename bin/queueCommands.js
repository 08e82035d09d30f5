// `tidings sender` and `tidings send --redis`: durable sends through the queue
// (dist/queue.js, BullMQ on Redis), with subscriptions in PostgreSQL or SQLite.
import { existsSync } from 'node:fs';
import { messageFlags, messageFromFlags, vapidFromEnv } from './sendOptions.js';

/** The commands, given what they borrow from tidings.js: its flag parser, UsageError and .env reader. */
export function queueCommands({ options, UsageError, readEnvFile }) {
  const connectionFlags = {
    redis: { type: 'string' },
    store: { type: 'string' },
    env: { type: 'string' },
    schema: { type: 'string' },
    queue: { type: 'string' },
    'allow-loopback': { type: 'boolean' },
  };

  const integer = (value, flag, min = 1) => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${flag} must be a whole number >= ${min}`);
    return Number(value);
  };

  /** The shared options of queue and sender, and the store (closed by the caller). */
  async function connect(values, command) {
    if (!values.redis) throw new UsageError(`${command} needs --redis redis://HOST:6379`);
    if (!/^rediss?:\/\//.test(values.redis)) throw new UsageError('--redis must be a redis:// or rediss:// URL');
    if (!values.store) throw new UsageError(`${command} needs --store postgres://… or --store FILE.db`);
    const vapid = vapidFromEnv(values.env, readEnvFile, UsageError);
    let store;
    if (/^postgres(ql)?:\/\//.test(values.store)) {
      const { postgresStore } = await import('../dist/postgres.js');
      store = postgresStore({ connectionString: values.store, ...(values.schema ? { schema: values.schema } : {}) });
    } else {
      if (values.schema) throw new UsageError('--schema is for a postgres:// store');
      if (!existsSync(values.store)) throw new UsageError(`store ${values.store} does not exist`);
      const { sqliteStore } = await import('../dist/server.js');
      store = sqliteStore(values.store);
    }
    const shared = { redis: values.redis, store, vapid, allowLoopbackEndpoints: Boolean(values['allow-loopback']) };
    if (values.queue !== undefined) shared.name = values.queue;
    return shared;
  }

  /** Turns the library's errors into usage errors (exit 2, one line), as the other commands do. */
  async function guarded(run) {
    const { isTidingsError } = await import('../dist/queue.js');
    try {
      return await run();
    } catch (error) {
      if (isTidingsError(error)) throw new UsageError(error.message);
      throw error;
    }
  }

  async function sender(args) {
    const values = options(args, {
      ...connectionFlags,
      concurrency: { type: 'string' },
      'stall-timeout': { type: 'string' },
    });
    const concurrency = integer(values.concurrency, '--concurrency');
    const stallTimeout = integer(values['stall-timeout'], '--stall-timeout', 1000);
    const shared = await connect(values, 'sender');
    const { startSendWorker } = await import('../dist/queue.js');
    // Listen first: a SIGTERM while connecting still ends in a clean exit.
    let stop;
    const stopped = new Promise((resolve) => (stop = resolve));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    return guarded(async () => {
      let worker;
      try {
        worker = await startSendWorker({
          ...shared,
          ...(concurrency ? { concurrency } : {}),
          ...(stallTimeout ? { lockDuration: stallTimeout, stalledInterval: stallTimeout } : {}),
        });
        process.stdout.write(`tidings sender ${process.pid}: taking sends from queue "${shared.name ?? 'tidings'}" (SIGTERM stops it)\n`);
        const signal = await stopped;
        process.stdout.write(`tidings sender ${process.pid}: ${signal}, finishing the batch in flight\n`);
        await worker.close();
        process.stdout.write(`tidings sender ${process.pid}: stopped\n`);
        return 0;
      } finally {
        await shared.store.close();
      }
    });
  }

  async function send(args) {
    const values = options(args, {
      ...connectionFlags,
      ...messageFlags,
      'batch-size': { type: 'string' },
      'no-wait': { type: 'boolean' },
    });
    const { envelope, sendOptions } = messageFromFlags(values, UsageError);
    const batchSize = integer(values['batch-size'], '--batch-size');
    const shared = await connect(values, 'send');
    const { createSendQueue } = await import('../dist/queue.js');
    return guarded(async () => {
      const queue = createSendQueue({ ...shared, ...(batchSize ? { batchSize } : {}) });
      try {
        const { id } = await queue.send(envelope, sendOptions);
        if (values['no-wait']) {
          process.stdout.write(`${id}\n`);
          return 0;
        }
        const progress = progressReporter(process.stdout, id);
        const final = await queue.wait(id, { onProgress: progress.update });
        progress.end();
        process.stdout.write(`message ${id}: sent ${final.sent}, gone ${final.gone}, failed ${final.failed}\n`);
        if (final.state === 'failed') process.stderr.write(`send failed: ${final.error ?? 'unknown error'}\n`);
        return final.state === 'failed' || final.failed > 0 ? 1 : 0;
      } finally {
        await queue.close();
        await shared.store.close();
      }
    });
  }

  return { sender, send };
}

/**
 * Shows a send's progress: a bar redrawn in place on a terminal, plain lines (at most one
 * a second, and the last) when the output is a file or a pipe, so logs stay readable.
 */
export function progressReporter(out, id) {
  const tty = Boolean(out.isTTY);
  let lastLine = 0;
  let pending;
  const describe = (s) => {
    const done = s.sent + s.gone + s.failed;
    const of = s.total === undefined ? '' : ` of ${s.total}`;
    return `${done}${of} (sent ${s.sent}, gone ${s.gone}, failed ${s.failed}) ${s.state}`;
  };
  const bar = (s) => {
    const width = 30;
    const done = s.sent + s.gone + s.failed;
    // Until the last batch is read the audience is not known: the bar then only counts.
    if (s.total === undefined) return `[${'.'.repeat(width)}] ${describe(s)}`;
    const share = s.total === 0 ? 1 : done / s.total;
    const filled = Math.round(share * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${describe(s)}`;
  };
  return {
    update(status) {
      if (tty) {
        out.write(`\r\x1b[2K${bar(status)}`);
        return;
      }
      pending = status;
      const now = Date.now();
      if (now - lastLine >= 1000 || status.state === 'done' || status.state === 'failed') {
        out.write(`progress ${id}: ${describe(status)}\n`);
        lastLine = now;
        pending = undefined;
      }
    },
    end() {
      if (tty) out.write('\n');
      else if (pending) out.write(`progress ${id}: ${describe(pending)}\n`);
    },
  };
}
