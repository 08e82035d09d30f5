import type { RedisOptions } from 'bullmq';
import type { PushServerOptions } from '../server/createPushServer.js';
import type { VapidDetails } from '../server/crypto/generateVapidKeys.js';
import type { SendOptions } from '../server/send/sendTypes.js';
import type { SendControl } from '../server/controls/sendControls.js';
import type { SubscriptionStore } from '../server/stores/SubscriptionStore.js';
import type { Envelope } from '../shared/protocol.js';
import type { InsightEvent, PushStats } from '../server/stats/statsTypes.js';
import type { MetricsRegistry } from '../server/metrics/MetricsRegistry.js';

export type SendState = 'scheduled' | 'queued' | 'running' | 'done' | 'cancelled' | 'failed';

/** Progress and exact counts of a queued send, read from Redis (never from a sender's memory). */
export interface SendStatus {
  /** The message id: every copy of the message carries it. */
  id: string;
  state: SendState;
  /**
   * Subscribers in the audience: counted in the store when the send was queued, so known
   * from the start. Batches read the audience as they go, so subscribers who register or
   * leave meanwhile may be in it or not; once the last batch is read, `total` is exactly
   * the subscribers the batches fixed, and at the end `sent + gone + failed` equals it.
   * Absent only for a send queued by tidings 0.1.0, until its last batch is read.
   */
  total?: number;
  /** Each subscriber is counted once in one of these, however often its batch ran. */
  sent: number;
  /** Subscriptions the push service said were gone (404/410), or that were deleted before their turn: removed from the store. */
  gone: number;
  failed: number;
  /** Skipped by a frequency cap (present once any was). */
  capped?: number;
  /** Of those reached, how many waited for their local time or the end of their quiet hours (present once any did). */
  deferred?: number;
  /** Why the send failed (state `failed`): a batch that kept failing, e.g. the store was down. */
  error?: string;
  /**
   * Batches held by a sender that stopped renewing its lock (killed, hung, cut off): they
   * wait for another sender to take them again, within `stalledInterval`. Absent when none.
   */
  stalled?: number;
}

/**
 * How pushes are made: `createPushServer`'s delivery options, with the same defaults and
 * the same checks (`pushServices`, `allowLoopbackEndpoints`, `timeout`, `retries`,
 * `maxRetryDelay`, the circuit breaker, pruning), documented there.
 */
export type DeliveryOptions = Pick<
  PushServerOptions,
  | 'timeout'
  | 'retries'
  | 'maxRetryDelay'
  | 'allowLoopbackEndpoints'
  | 'pushServices'
  | 'circuitBreakerFailures'
  | 'circuitBreakerCoolDown'
  | 'pruneFailingAfterDays'
  | 'http2'
  | 'idleTimeout'
  | 'ca'
>;

/** What the queue and its senders share: where the queue lives and what it sends with. */
export interface QueueConnectionOptions extends DeliveryOptions {
  /** Redis: a `redis://` URL or ioredis options. */
  redis: string | RedisOptions;
  /** Where subscriptions are: `postgresStore(…)` for several machines, or `sqliteStore(file)` on one. */
  store: SubscriptionStore;
  /** The VAPID key pair and contact, as for `createPushServer`. */
  vapid: VapidDetails;
  /** The queue's name: senders take sends from the queue of the same name. @default 'tidings' */
  name?: string;
  /** Where the backend handler is mounted: the prefix of `fetch` pointers for large messages. @default '/api/push' */
  basePath?: string;
  /**
   * BullMQ itself (`import * as bullmq from 'bullmq'`), where tidings cannot load it by
   * name: in Cloudflare's workerd, bundle it and pass it (docs/runtimes.md). @default the
   * installed `bullmq` package
   */
  bullmq?: typeof import('bullmq');
}

export interface SendQueueOptions extends QueueConnectionOptions {
  /**
   * The site's address (`https://example.com/`), as for `createPushServer`: relative URLs
   * of declarative sends (`send(…, { declarative: true })`) are made absolute against it.
   */
  siteUrl?: string;
  /** Subscribers per job: a sender takes a batch at a time, and a crash repeats at most one. @default 500 */
  batchSize?: number;
  /** A frequency cap every send keeps unless it gives its own (or `cap: false`), as `createPushServer`'s `cap`. @default none */
  cap?: { max: number; per: string | number };
  /**
   * The clock send() plans with (local time, quiet hours), ms since the epoch, for tests.
   * BullMQ's delays run on the real clock: a slice is due `slice - now()` real ms later.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Prometheus metrics of this queue (docs/insight.md, "Metrics"): its batches waiting,
   * delayed, active and failed and the oldest one's wait (read from Redis at each scrape),
   * and the sends queued. `true`: a registry of its own, `queue.metrics`; a prom-client
   * `Registry`: that one. Needs `prom-client` (an optional peer). @default false
   */
  metrics?: boolean | MetricsRegistry;
  /**
   * Called once for each send this queue ends by `cancel()` (the senders report the sends
   * that finish on their own: their `onEvent`). Never awaited; what it throws or rejects
   * goes to `onError`.
   */
  onEvent?: (event: InsightEvent) => void | Promise<void>;
  /** Called with what the metrics could not read (the queue's depth, Redis down), at a scrape, and what `onEvent` threw. @default console.error */
  onError?: (error: unknown) => void;
}

export interface SendQueue {
  /**
   * Records a send and returns its id (the message id). Durable once it resolves: senders
   * deliver it even if this process ends. Sending an envelope whose `id` was queued before
   * queues nothing new and returns that id, so a retried call cannot send twice.
   */
  send(envelope: Envelope, options?: SendOptions): Promise<{ id: string; scheduledAt?: number }>;
  /** Progress and counts now, read from Redis (exact while the send runs). */
  status(id: string): Promise<SendStatus>;
  /**
   * Cancels a send: what waits (a delayed first batch, a slice not yet due) is removed, a
   * batch that runs stops after its pushes in flight (a sender hears of it within 200 ms),
   * later batches send nothing; the counts say how many went. Resolves to its status
   * after, or undefined when the queue does not know the id.
   */
  cancel(id: string): Promise<SendStatus | undefined>;
  /** The sending controls `send()` takes (docs/controls.md), for tools that offer them. */
  readonly controls: readonly SendControl[];
  /**
   * The send log and the funnels, as `push.stats` gives them: one record per send,
   * brought up to date by whichever sender ran each batch (docs/insight.md).
   */
  stats: PushStats;
  /** Resolves when the send is `done` or `failed`, calling `onProgress` as counts change. */
  wait(id: string, options?: { onProgress?(status: SendStatus): void; /** ms between reads. @default 250 */ interval?: number }): Promise<SendStatus>;
  /** The Prometheus registry of the `metrics` option (the queue's depth, the sends queued); undefined without it. */
  readonly metrics: MetricsRegistry | undefined;
  close(): Promise<void>;
}

export interface SendWorkerOptions extends QueueConnectionOptions {
  /** Pushes in flight at once in this sender. @default 50 */
  concurrency?: number;
  /**
   * ms a sender holds a batch without renewing its lock before others may take it (BullMQ's
   * `lockDuration`). Renewed every half of it while alive, so the sender's event loop may be
   * blocked for up to half of it before the batch is wrongly taken as lost. @default 8000
   */
  lockDuration?: number;
  /**
   * ms between checks for batches of senders that stopped (BullMQ's `stalledInterval`). A
   * killed sender's batch is taken again within `lockDuration + stalledInterval` (10 s at
   * the defaults). @default 2000
   */
  stalledInterval?: number;
  /**
   * Called once for each send that finished (state done or failed), as `createPushServer`'s
   * `onEvent` is: by the sender whose batch finished it (a cancelled send: by the queue that cancelled it). Never awaited; what it throws or
   * rejects goes to `onError`.
   */
  onEvent?: (event: InsightEvent) => void | Promise<void>;
  /** Called with errors of the send log's bookkeeping, of `onEvent` and of the metrics. @default console.error */
  onError?: (error: unknown) => void;
  /**
   * Prometheus metrics of this sender (docs/insight.md, "Metrics"): its pushes by outcome
   * and push service, push-service latency, its circuit breakers, the sends it finished,
   * and its queue's depth. `true`: a registry of its own, `worker.metrics` (what `tidings
   * sender --metrics-port` serves); a prom-client `Registry`: that one. Needs
   * `prom-client` (an optional peer). @default false
   */
  metrics?: boolean | MetricsRegistry;
}

export interface SendWorker {
  /** The Prometheus registry of the `metrics` option; undefined without it. */
  readonly metrics: MetricsRegistry | undefined;
  /** Stops taking batches, finishes those in flight, then resolves. */
  close(): Promise<void>;
}
