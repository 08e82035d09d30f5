import type { EventsRefusal, HttpObserver, RegistrationOutcome } from '../http/HttpObserver.js';
import type { CircuitSnapshot } from '../send/createCircuitBreaker.js';
import type { DeliveryObserver } from '../send/DeliveryObserver.js';
import type { DeliveryOutcome } from '../send/deliver.js';
import { failureCause } from '../stats/failureOf.js';

/** Upper bounds (seconds) of the push-service latency histogram: a local push service answers in ms, FCM in tens of them, and the default timeout is 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Push services named in labels at most, per source; pushes to others count under
 * `other`. Anyone may register an endpoint, so the hosts a send meets are theirs to
 * choose: grouped by push service (pushServiceGroup) they are few, and capped they stay few.
 */
export const MAX_SERVICES = 32;
export const OTHER_SERVICE = 'other';
/** The label of pushes that never named a push service (an endpoint refused before any host). */
export const NO_SERVICE = 'none';

/** One push service's request times: `buckets[i]` counts answers in (LATENCY_BUCKETS[i-1], LATENCY_BUCKETS[i]] (not cumulative). */
export interface Latency {
  buckets: number[];
  sum: number;
  count: number;
}

/** What one push service's pushes came to. */
export interface ServiceCounts {
  sent: number;
  gone: number;
  failed: number;
  /** Failures by cause (failureCause: a dozen words at most). */
  causes: Map<string, number>;
  /** By protocol (`http/1.1`, `h2`, `unknown`). */
  latency: Map<string, Latency>;
}

/** A queue's jobs (batches of subscribers) now, read from Redis at each scrape. */
export interface QueueDepth {
  waiting: number;
  delayed: number;
  active: number;
  failed: number;
  /** Seconds the oldest waiting job has waited since it was due; 0 when none waits. */
  oldestWaitingSeconds: number;
}

export interface QueueProbe {
  /** The queue's name: two sources of one queue (a producer and a sender in one process) report it once. */
  name: string;
  depth(): Promise<QueueDepth>;
}

/**
 * The counts of one push server, sender or queue, kept as plain numbers: the hot path
 * pays an increment and a Map lookup, allocates nothing, and never meets prom-client.
 * The registry reads them when it is scraped (registryMetrics), summing the sources
 * attached to it.
 */
export interface MetricsSource {
  readonly delivery: DeliveryObserver;
  readonly http: HttpObserver;
  /** A send this process created, in the state it was created in (`running`, `scheduled`, `queued`). */
  sendCreated(state: string): void;
  /** A send this process saw end, in its final state (`done`, `failed`, `cancelled`). */
  sendFinished(state: string): void;
  /** The label a push service counts under (its own, or `other` past MAX_SERVICES). */
  serviceLabel(group: string): string;
  readonly services: ReadonlyMap<string, ServiceCounts>;
  readonly registrations: ReadonlyMap<string, number>;
  readonly events: { verified: number; unverified: number; counted: number };
  readonly eventsRefused: ReadonlyMap<string, number>;
  readonly sendsCreated: ReadonlyMap<string, number>;
  readonly sendsFinished: ReadonlyMap<string, number>;
  /** Gauges read at each scrape, set by whoever owns what they read (and unset when it closes). */
  breaker?: (() => CircuitSnapshot) | undefined;
  running?: (() => number) | undefined;
  queue?: QueueProbe | undefined;
  /** Where a gauge that failed to read (Redis down) is reported. */
  onError(error: unknown): void;
}

export function createMetricsSource(onError: (error: unknown) => void): MetricsSource {
  const services = new Map<string, ServiceCounts>();
  let named = 0;
  const registrations = new Map<string, number>();
  const eventsRefused = new Map<string, number>();
  const sendsCreated = new Map<string, number>();
  const sendsFinished = new Map<string, number>();
  const events = { verified: 0, unverified: 0, counted: 0 };

  const countsOf = (group: string): ServiceCounts => {
    const label = group || NO_SERVICE;
    let counts = services.get(label);
    if (counts) return counts;
    const key = named < MAX_SERVICES ? label : OTHER_SERVICE;
    counts = services.get(key);
    if (!counts) {
      services.set(key, (counts = { sent: 0, gone: 0, failed: 0, causes: new Map(), latency: new Map() }));
      if (key !== OTHER_SERVICE) named++;
    }
    return counts;
  };

  return {
    delivery: {
      answered(group, protocol, seconds) {
        const { latency } = countsOf(group);
        const key = protocol ?? 'unknown';
        let cells = latency.get(key);
        if (!cells) latency.set(key, (cells = { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 }));
        let i = 0;
        while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
        if (i < LATENCY_BUCKETS.length) cells.buckets[i]!++;
        cells.sum += seconds;
        cells.count++;
      },
      concluded(group, outcome: DeliveryOutcome) {
        const counts = countsOf(group);
        counts[outcome.outcome]++;
        if (outcome.outcome === 'failed') bump(counts.causes, failureCause(outcome));
      },
    },
    http: {
      registration: (outcome: RegistrationOutcome) => bump(registrations, outcome),
      eventsAccepted(verified, received, counted) {
        if (verified) events.verified += received;
        else events.unverified += received;
        events.counted += counted;
      },
      eventsRefused: (reason: EventsRefusal) => bump(eventsRefused, reason),
    },
    sendCreated: (state) => bump(sendsCreated, state),
    sendFinished: (state) => bump(sendsFinished, state),
    serviceLabel(group) {
      const label = group || NO_SERVICE;
      // Named from now on (when there is room), so the breaker's gauges and the push counts agree on it.
      countsOf(group);
      return services.has(label) ? label : OTHER_SERVICE;
    },
    services,
    registrations,
    events,
    eventsRefused,
    sendsCreated,
    sendsFinished,
    onError,
  };
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
