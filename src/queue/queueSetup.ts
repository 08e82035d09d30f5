import type { ConnectionOptions } from 'bullmq';
import { createSender, type Sender } from '../server/send/createSender.js';
import { createDeliveryPolicy } from '../server/send/createDeliveryPolicy.js';
import type { DeliveryPolicy } from '../server/send/deliver.js';
import { checkVapidDetails } from '../server/crypto/generateVapidKeys.js';
import { requireOptional } from '../server/common/requireOptional.js';
import { httpUrlOption, invalidOption as invalid, pathOption, storeOption } from '../server/common/checkOptions.js';
import { INSIGHT_METHODS } from '../server/stores/insightRows.js';
import type { QueueConnectionOptions } from './queueTypes.js';

/** What createSendQueue and startSendWorker make of their shared options, checked once. */
export interface QueueSetup {
  /** BullMQ's queue name. */
  name: string;
  connection: ConnectionOptions;
  sender: Sender;
  /** What the sender delivers with: its transport, its circuit breaker, and where the metrics hook in. */
  policy: DeliveryPolicy;
}

/**
 * BullMQ: the module the options give (a runtime that loads nothing by name), or the
 * installed one, loaded when a queue or sender is first used (an optional peer dependency).
 */
export function loadBullmq(given: unknown, needs: readonly ('Queue' | 'Worker' | 'UnrecoverableError')[]): typeof import('bullmq') {
  if (given === undefined) return requireOptional<typeof import('bullmq')>('bullmq', '5');
  const module = given as Record<string, unknown> | null;
  for (const name of needs) if (typeof module?.[name] !== 'function') invalid('bullmq', `must be the bullmq module (import * as bullmq from 'bullmq'): it has no ${name}`);
  return given as typeof import('bullmq');
}

export function queueSetup(options: QueueConnectionOptions & { siteUrl?: string }, concurrency: number): QueueSetup {
  if (!options || typeof options !== 'object') invalid('options', 'must be an object');
  const vapid = checkVapidDetails(options.vapid);
  // Every send is recorded in the store's send log, by the queue and by each sender.
  const store = storeOption(options.store, [...INSIGHT_METHODS]);
  const name = options.name ?? 'tidings';
  // BullMQ keys are `bull:{name}:…`; a colon in the name would run into them.
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(name)) invalid('name', 'must be 1-100 letters, digits, _ . -');
  const basePath = pathOption(options.basePath, '/api/push', 'basePath');
  let connection: ConnectionOptions;
  if (typeof options.redis === 'string') {
    if (!/^rediss?:\/\//.test(options.redis)) invalid('redis', 'must be a redis:// or rediss:// URL, or ioredis options');
    // Workers block on Redis; BullMQ wants requests never to give up for them.
    connection = { url: options.redis, maxRetriesPerRequest: null };
  } else if (options.redis && typeof options.redis === 'object') {
    connection = { maxRetriesPerRequest: null, ...options.redis };
  } else {
    return invalid('redis', 'must be a redis:// URL or ioredis options');
  }
  // The same policy as createPushServer's: which push services, loopback, retries, breaker.
  const policy = createDeliveryPolicy(vapid, options);
  // Declarative payloads are made when a send is queued, so only the queue needs the site's address.
  const siteUrl = httpUrlOption(options.siteUrl, 'siteUrl');
  return { name, connection, policy, sender: createSender({ store, publicPath: basePath, concurrency, policy, siteUrl }) };
}

/** BullMQ job ids may not contain ':' nor be integers; message ids are the site's own text. */
export function batchJobId(id: string, k: number): string {
  return `b${k}.${Buffer.from(id).toString('base64url')}`;
}

/** Job options of every batch: retried with backoff when a batch throws (store or Redis down). */
export const batchJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  // Finished jobs are not data anyone reads (the ledger has the counts); keep a few for inspection.
  removeOnComplete: { age: 3600, count: 5000 },
  removeOnFail: { age: 7 * 86_400 },
} as const;

export interface BatchJob {
  /** The message id. */
  id: string;
  /** Which batch: 0, 1, … in id order. */
  k: number;
  /** The last subscription id of the batch before (undefined for the first). */
  after?: string;
}
