import type { Envelope, SealKey } from '../shared/protocol.js';
import { httpUrlOption, integerOption as positive, invalidOption as invalid, originListOption, pathOption, storeOption } from './common/checkOptions.js';
import { clientKeyFor, proxyTrustOption, type TrustProxy } from './http/clientAddress.js';
import { createHandler, type Identify, type RequestInfo } from './http/createHandler.js';
import { createSender } from './send/createSender.js';
import { createDeliveryPolicy } from './send/createDeliveryPolicy.js';
import { checkVapidDetails, type VapidDetails } from './crypto/generateVapidKeys.js';
import { checkCap } from './controls/frequencyCap.js';
import { SEND_CONTROLS, type SendControl } from './controls/sendControls.js';
import { requestLimits } from './common/requestLimits.js';
import { attributeKeyProblem } from './common/attributeRules.js';
import { seal } from './crypto/seal.js';
import type { SendOptions, SendResult } from './send/sendTypes.js';
import type { SubscriptionStore } from './stores/SubscriptionStore.js';
import type { AttributeChanges, SendTarget } from './audience/Audience.js';
import { checkAttributeChanges } from './audience/checkAudience.js';
import { toSubscriptionQuery } from './audience/toSubscriptionQuery.js';
import { LOCALE_ATTRIBUTES } from './http/validateRegisterRequest.js';
import { createLoggedSend } from './send/createLoggedSend.js';
import { createPushStats } from './stats/createPushStats.js';
import { createReporter, finishedEvent, type OnEvent } from './stats/createReporter.js';
import type { InsightEvent, PushStats, SendRecord } from './stats/statsTypes.js';
import { FINAL_STATES, INSIGHT_METHODS } from './stores/insightRows.js';
import { createScheduler } from './schedule/createScheduler.js';
import { SCHEDULE_METHODS } from './schedule/scheduleTypes.js';
import { countFinishedSends, metricsOption } from './metrics/metricsOption.js';
import type { MetricsRegistry } from './metrics/MetricsRegistry.js';

export type { SendError, SendOptions, SendResult } from './send/sendTypes.js';

export interface PushServerOptions {
  /** The VAPID key pair (see `generateVapidKeys`) and a `mailto:` or `https:` contact. */
  vapid: VapidDetails;
  /** Where subscriptions, events and large messages live: `memoryStore()`, `sqliteStore(file)` or your own. */
  store: SubscriptionStore;
  /**
   * The public path of the backend contract: where browsers reach the handler, and the
   * prefix of the `fetch` URLs large messages are pushed as. @default '/api/push'
   */
  basePath?: string;
  /**
   * The path prefix of the requests the handler is given, when a framework or proxy
   * strips part of `basePath` before calling it (Hono's `app.mount('/api/push', …)`: `''`).
   * `toNodeHandler` under Express's `app.use(path, …)` needs nothing: it reads the
   * original URL. @default basePath
   */
  routePath?: string;
  /** Pushes in flight at once during a send. @default 50 */
  concurrency?: number;
  /** ms to wait for a push service before the attempt counts as failed. @default 10000 */
  timeout?: number;
  /** Further attempts after a 429, 5xx, network error or timeout. @default 2 */
  retries?: number;
  /** Longest wait before a retry, in ms; a longer Retry-After is cut to this. @default 30000 */
  maxRetryDelay?: number;
  /** Largest request body the handler reads; larger gets 413. @default 65536 */
  maxBodyBytes?: number;
  /**
   * Accept subscriptions whose endpoint is on loopback (`http://127.0.0.1:…`), as the
   * local push service of `tidings/testing` hands out. Off in production: registration is
   * open to anyone, and sends would then reach services on the backend's own host.
   * @default false
   */
  allowLoopbackEndpoints?: boolean;
  /**
   * The site's address (`https://example.com/`): relative URLs of declarative sends
   * (`send(…, { declarative: true })`) are made absolute against it, and a notification
   * without `url` opens it. Without it such sends accept absolute URLs only.
   */
  siteUrl?: string;
  /**
   * Who a visitor is, read from your own session (cookie, bearer token): the attributes
   * to store with their subscription (`{ user: '42' }`), which `send({ to: { attributes } })`
   * then targets. `null` refuses the registration (401); `undefined` keeps it anonymous.
   * Without it every registration is anonymous. Never trust attributes from the browser
   * for targeting a person: this hook is the only source of identity.
   */
  identify?: Identify;
  /**
   * Attribute keys a browser may set itself at registration (topics); any other key in
   * the body is a 400 naming it. `timeZone` and `language`, which the page SDK records,
   * are always allowed (checked, and left out when this server does not know them).
   * @default [] (none but those two)
   */
  clientAttributes?: string[];
  /**
   * Other origins whose pages may call the handler (`https://app.example`). Requests
   * from other sites (`Sec-Fetch-Site: cross-site`, or a foreign `Origin`) are 403.
   * @default [] (same site only)
   */
  allowedOrigins?: string[];
  /**
   * Events one client may post per minute (a client is its address, see `trustProxy`, or
   * `clientKey`); past it 429 with Retry-After. `false` turns the limit off. @default 1200
   */
  eventsPerMinute?: number | false;
  /**
   * Registrations (`POST /subscriptions`) one client may make per minute, counted before
   * the body is read; past it 429 with Retry-After. A browser registers once and then only
   * when its subscription changes, so even a thousand visitors behind one NAT stay far
   * below it; a script minting junk endpoints gets 60 a minute. `false` turns the limit
   * off. @default 60
   */
  registrationsPerMinute?: number | false;
  /** Days events are kept; older ones are deleted from the store. @default 30 */
  eventRetentionDays?: number;
  /**
   * Which proxies in front of the handler may name the client through `X-Forwarded-For`,
   * for the rate limits. `false`: none, the peer address is the client (a header a client
   * writes is never read). A number: that many proxies of yours in front (1: one load
   * balancer); the client is the address the outermost of them appended. A list: your
   * proxies' addresses and CIDR ranges (`['10.0.0.0/8']`); the client is the nearest
   * address outside them. An IPv6 client counts by its /64. @default false
   */
  trustProxy?: TrustProxy;
  /**
   * Names the client for the rate limits, replacing the address `trustProxy` finds (a
   * signed-in user's id, say); `undefined` leaves that request unlimited. It must be
   * something a client cannot choose at will: never a header the client writes.
   * @default the client's address, IPv6 by its /64
   */
  clientKey?: (request: Request, info: RequestInfo) => string | undefined;
  /**
   * Called with errors the handler answered 500 to (a store failure, a throwing
   * `identify`), a send-log write that failed mid-send, and what `onEvent` threw.
   * @default console.error
   */
  onError?: (error: unknown) => void;
  /**
   * Called once for each counted event (a verified `delivered`, `shown`, `clicked`,
   * `closed` or `failed`, the first of its message, subscription and type) and once for
   * each send that finished, to forward them to a warehouse or a webhook (docs/insight.md
   * has the shape). Never awaited: what it throws or rejects goes to `onError`, and the
   * request or send goes on.
   */
  onEvent?: (event: InsightEvent) => void | Promise<void>;
  /**
   * Hosts subscription endpoints may name: exact names, `*.` for any subdomain of one,
   * `host:port` for another port than 443; `'any'` for every public host on 443. Checked
   * at registration and again at send; whatever the list, the address a send connects
   * to is never loopback (unless allowed above), private, link-local or unspecified.
   * @default ['fcm.googleapis.com', 'updates.push.services.mozilla.com', '*.push.apple.com', '*.notify.windows.com']
   */
  pushServices?: string[] | 'any';
  /** Consecutive failures (network, timeout, 5xx) after which a push-service host is skipped. @default 10 */
  circuitBreakerFailures?: number;
  /** ms a host is skipped once it ran out of failures; its subscriptions fail with `circuit-open`. @default 60000 */
  circuitBreakerCoolDown?: number;
  /** Days a subscription may keep failing (never `gone`) before a send deletes it. @default 7 */
  pruneFailingAfterDays?: number;
  /**
   * Speak HTTP/2 with push services that offer it (ALPN `h2` over https: FCM, Mozilla,
   * Apple): one connection per push service carries every push in flight, each as its own
   * stream. `false`: HTTP/1.1 keep-alive only. Plain-http endpoints (a local push service)
   * always use HTTP/1.1. @default true
   */
  http2?: boolean;
  /**
   * How pushes go out: `'node'` (node:http and node:http2, every address checked when
   * connecting) or `'fetch'` (the platform's `fetch`: no redirect, bounded reads and
   * timeouts as well, but addresses are checked only when written as IPs; `http2`,
   * `idleTimeout` and `ca` do not apply). docs/runtimes.md says what each keeps.
   * @default 'node' in Node, Bun and Deno; 'fetch' in workerd and other runtimes
   */
  transport?: 'node' | 'fetch';
  /**
   * ms a connection to a push service may stay idle before it is closed (at most 256
   * idle HTTP/1.1 connections and 256 HTTP/2 sessions are kept across every push service).
   * @default 30000
   */
  idleTimeout?: number;
  /**
   * Certificates (PEM) of authorities to trust for push services over https, beside
   * Node's own: the `ca` of `startPushService({ tls: true })` in tests. @default none
   */
  ca?: string | string[];
  /**
   * A frequency cap every send keeps unless it gives its own (or `cap: false`): a
   * subscriber who got `max` pushes in the last `per` (`'1d'`) is skipped, counted
   * `capped`. Needs a store with `capSends`. @default none
   */
  cap?: { max: number; per: string | number };
  /**
   * Run the sends that wait in the store (`send(…, { at | localTime | quietHours })`) in
   * this process when they are due. Any number of processes may: each send runs in one at
   * a time (a lease in the store), and when that process dies another takes it over once
   * the lease lapses. `true`, or `{ pollInterval, lease, parallel }`. Without a scheduler
   * somewhere, scheduled sends wait. @default false
   */
  scheduler?: boolean | SchedulerSettings;
  /**
   * Prometheus metrics (docs/insight.md, "Metrics"): pushes by outcome and push service,
   * push-service latency, circuit breakers, events, registrations, sends. `true` keeps
   * them in a registry of their own, `push.metrics`; a prom-client `Registry` (your
   * `/metrics` one) puts them there. Needs the `prom-client` package (an optional peer).
   * Counting costs a send a few increments per push and can fail nothing: what the
   * registry throws goes to `onError`. @default false
   */
  metrics?: boolean | MetricsRegistry;
  /**
   * The clock sends and schedules read (ms since the epoch), for tests that move time
   * instead of waiting for it. @default Date.now
   */
  now?: () => number;
}

/** How a push server's scheduler runs (`scheduler: { … }`). */
export interface SchedulerSettings {
  /** ms between looks for due sends. @default 1000 */
  pollInterval?: number;
  /** ms a lease lasts unless renewed: how long a send whose process died waits before another process takes it. @default 30000 */
  lease?: number;
  /** Sends run at once in this process. @default 2 */
  parallel?: number;
}

export interface PushServer {
  /** The backend HTTP contract (DESIGN.md) as a Fetch-API handler; `toNodeHandler` mounts it on node:http. */
  handler(request: Request, info?: RequestInfo): Promise<Response>;
  /** Sends an envelope to subscriptions: sealed where the client registered a seal key, by `fetch` when too large. */
  send(message: Envelope, options?: SendOptions): Promise<SendResult>;
  /** Seals an envelope to a seal key: an RFC 8291 record, base64url. */
  seal(message: Envelope, sealKey: SealKey): string;
  /** How many subscriptions `to` reaches now (an id, ids or an audience, as for send); no `to`: all of them. */
  count(to?: SendTarget): Promise<number>;
  /**
   * Merges `attributes` into every subscription `to` reaches (server-side tagging, e.g.
   * a CRM sync): a value sets its key, `null` removes it, other keys are kept. `to` is
   * required. Resolves to how many subscriptions were changed. Tags stay through the
   * browser's re-registrations while its identity stays the same (docs/server.md).
   */
  setAttributes(to: SendTarget, attributes: AttributeChanges): Promise<number>;
  /** Deletes every subscription `to` reaches (account deletion); `to` is required. Resolves to how many. */
  removeSubscriptions(to: SendTarget): Promise<number>;
  /** The sending controls `send()` takes (docs/controls.md), for tools that offer them (the dashboard, the CLI). */
  readonly controls: readonly SendControl[];
  /** The send log, each message's funnel, the timeline and the audience, from the store's rollups (docs/insight.md). */
  stats: PushStats;
  /** A send's row of the send log now (its state and counts), or undefined when unknown. */
  status(id: string): Promise<SendRecord | undefined>;
  /**
   * Cancels a send of this push server (`via: 'send'`): one that waits sends nothing; one
   * that runs stops after its pushes in flight, in whatever process runs it (at its next
   * page there), and its counts say how many went. Resolves to its row after (state
   * `cancelled`; a send that had finished keeps its state), or undefined when unknown.
   */
  cancel(id: string): Promise<SendRecord | undefined>;
  /**
   * The Prometheus registry this push server counts into (the `metrics` option's, or its
   * own with `metrics: true`): serve `await push.metrics.metrics()` with
   * `push.metrics.contentType`. Undefined without the option.
   */
  readonly metrics: MetricsRegistry | undefined;
  /** Stops this push server's scheduler, handing the sends it runs back to the store (after their pushes in flight) for another process. */
  close(): Promise<void>;
}

/** Creates the backend half of tidings. Options are checked here, once; a bad one throws TidingsError `invalid-option`. */
export function createPushServer(options: PushServerOptions): PushServer {
  const vapid = checkVapidDetails(options?.vapid);
  const store = storeOption(options.store, ['saveSubscription', 'countSubscriptions', 'updateAttributes', 'deleteSubscriptions', ...INSIGHT_METHODS]);
  const basePath = pathOption(options.basePath, '/api/push', 'basePath');
  const routePath = pathOption(options.routePath, basePath, 'routePath');
  const concurrency = positive(options.concurrency, 50, 'concurrency');
  const policy = createDeliveryPolicy(vapid, options);
  const maxBodyBytes = positive(options.maxBodyBytes, requestLimits.body, 'maxBodyBytes');

  const siteUrl = httpUrlOption(options.siteUrl, 'siteUrl');
  const sender = createSender({ store, publicPath: basePath, concurrency, policy, siteUrl });
  const defaultCap = checkCap(options.cap, 'cap') || undefined;
  if (defaultCap) storeOption(store, ['capSends']);
  const now = optionalFunction(options.now, 'now') ?? Date.now;
  const onError = optionalFunction(options.onError, 'onError') ?? ((error) => console.error('tidings:', error));
  const metrics = metricsOption(options.metrics, onError);
  const report = countFinishedSends(createReporter(optionalFunction<OnEvent>(options.onEvent, 'onEvent'), onError), metrics?.source);
  const running = new Map<string, AbortController>();
  if (metrics) {
    policy.observer = metrics.source.delivery;
    metrics.source.breaker = () => policy.breaker.snapshot();
    metrics.source.running = () => running.size;
  }
  const send: (message: Envelope, sendOptions?: SendOptions) => Promise<SendResult> = createLoggedSend({
    store,
    sender,
    onError,
    report,
    now,
    defaultCap,
    running,
    onCreated: metrics?.source.sendCreated,
  });
  const schedule = schedulerOption(options.scheduler);
  if (schedule) storeOption(store, [...SCHEDULE_METHODS]);
  const scheduler = schedule && createScheduler({ store, sender, report, onError, now, running, ...schedule });

  async function status(id: string): Promise<SendRecord | undefined> {
    const send = await store.getSend(id);
    if (!send) return undefined;
    const { services: _services, ...record } = send;
    return record;
  }

  const trust = proxyTrustOption(options.trustProxy);
  // A warning, not an error the handler answered: onError keeps its meaning (500s).
  const noAddress = () =>
    console.warn('tidings: the handler got no client address, so registrations and events are not rate-limited per client; pass { clientAddress } (docs/server.md, "Client addresses")');

  return {
    handler: createHandler({
      store,
      routePath,
      maxBodyBytes,
      endpoints: policy.endpoints,
      identify: optionalFunction(options.identify, 'identify'),
      // The locale keys are the visitor's to set everywhere (validateRegisterRequest checks their values).
      clientAttributes: [
        ...new Set([
          ...stringList(options.clientAttributes, 'clientAttributes', (key) => /^[A-Za-z0-9_.:-]{1,64}$/.test(key) && !attributeKeyProblem(key)),
          ...Object.keys(LOCALE_ATTRIBUTES),
        ]),
      ],
      allowedOrigins: originListOption(options.allowedOrigins, 'allowedOrigins'),
      eventRate: perMinute(options.eventsPerMinute, 1200, 'eventsPerMinute'),
      registrationRate: perMinute(options.registrationsPerMinute, 60, 'registrationsPerMinute'),
      eventRetentionMs: positive(options.eventRetentionDays, 30, 'eventRetentionDays') * 86_400_000,
      clientKey: optionalFunction(options.clientKey, 'clientKey') ?? clientKeyFor(trust, noAddress),
      onError,
      report,
      observer: metrics?.source.http,
    }),
    send,
    seal,
    async count(to) {
      return store.countSubscriptions(toSubscriptionQuery(to));
    },
    async setAttributes(to, attributes) {
      const query = toSubscriptionQuery(to, { everyone: false });
      return store.updateAttributes(query, checkAttributeChanges(attributes, 'attributes'));
    },
    async removeSubscriptions(to) {
      return store.deleteSubscriptions(toSubscriptionQuery(to, { everyone: false }));
    },
    controls: SEND_CONTROLS,
    stats: createPushStats(store),
    status,
    async cancel(id) {
      const row = await status(id);
      if (!row) return undefined;
      if (row.via === 'queue') invalid('id', "names a queued send: cancel it with the queue's cancel()");
      if (FINAL_STATES.includes(row.state)) return row;
      // The row first: whichever process runs the send reads it at its next page.
      const cancelled = await store.updateSend(id, { state: 'cancelled', finishedAt: now() });
      if (cancelled?.finished) report(finishedEvent(cancelled.send));
      if (typeof store.deleteScheduledSend === 'function') await store.deleteScheduledSend(id);
      running.get(id)?.abort();
      return status(id);
    },
    metrics: metrics?.registry,
    async close() {
      if (scheduler) await scheduler.close();
    },
  };
}

/** `scheduler`: false, true (the defaults) or its settings, checked. */
function schedulerOption(value: boolean | SchedulerSettings | undefined): Required<SchedulerSettings> | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null)) invalid('scheduler', 'must be true, false or { pollInterval, lease, parallel }');
  const settings = value === true ? {} : value;
  return {
    pollInterval: positive(settings.pollInterval, 1000, 'scheduler.pollInterval', 10),
    lease: positive(settings.lease, 30_000, 'scheduler.lease', 1000),
    parallel: positive(settings.parallel, 2, 'scheduler.parallel'),
  };
}

function perMinute(value: number | false | undefined, fallback: number, option: string): { limit: number; windowMs: number } | false {
  return value === false ? false : { limit: positive(value, fallback, option), windowMs: 60_000 };
}

function optionalFunction<T>(value: T | undefined, option: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') invalid(option, 'must be a function');
  return value;
}

function stringList(value: string[] | undefined, option: string, valid: (item: string) => boolean): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) invalid(option, 'must be an array of strings');
  for (const item of value) if (typeof item !== 'string' || !valid(item)) invalid(option, `${JSON.stringify(item)} is not valid`);
  return [...value];
}

