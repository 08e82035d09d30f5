import type { Counter, Gauge, Registry } from 'prom-client';
import { LATENCY_BUCKETS, type MetricsSource, type QueueDepth } from './createMetricsSource.js';
import type { MetricsRegistry } from './MetricsRegistry.js';

type PromClient = typeof import('prom-client');
type Labels = Record<string, string>;
type Add = (labels: Labels, value: number) => void;

/** ms a scrape waits for a queue's depth (Redis) before it answers without it. */
const QUEUE_PROBE_TIMEOUT = 2000;

/**
 * The sources counting into each registry. A registry may be shared (a push server and a
 * sender in one process, both given the site's registry): tidings' metrics are defined in
 * it once, and each scrape sums every source attached. Keyed weakly by the registry, so a
 * registry dropped takes its sources with it.
 */
const attached = new WeakMap<MetricsRegistry, Set<MetricsSource>>();

/**
 * Attaches a source to a registry, defining tidings' metrics there on first use. Every
 * value is set from the sources when the registry is scraped (prom-client's `collect`),
 * so nothing here runs while pushes go. A registry that refuses a metric (a name already
 * taken by someone else's) is reported to the source's `onError`; the rest go on.
 */
export function attachSource(client: PromClient, registry: MetricsRegistry, source: MetricsSource): void {
  let sources = attached.get(registry);
  if (!sources) {
    attached.set(registry, (sources = new Set()));
    defineMetrics(client, registry, sources, source.onError);
  }
  sources.add(source);
}

function defineMetrics(client: PromClient, registry: MetricsRegistry, sources: Set<MetricsSource>, onError: (error: unknown) => void): void {
  const registers = [registry as unknown as Registry];
  const define = (make: () => void) => {
    try {
      make();
    } catch (error) {
      onError(error);
    }
  };
  /** A counter or gauge whose values are each source's, summed, at every scrape. */
  const summed = (kind: 'Counter' | 'Gauge', name: string, help: string, labelNames: string[], write: (source: MetricsSource, add: Add) => void) =>
    define(() => {
      const Kind = client[kind] as unknown as new (config: object) => Counter | Gauge;
      new Kind({
        name,
        help,
        labelNames,
        registers,
        collect(this: Counter | Gauge) {
          this.reset();
          for (const source of sources) {
            try {
              write(source, (labels, value) => this.inc(labels, value));
            } catch (error) {
              source.onError(error);
            }
          }
        },
      });
    });

  summed('Counter', 'tidings_pushes_total', 'Pushes that ended, one per subscription however many attempts it took: outcome sent (a push service took it), gone (404/410, removed) or failed.', ['push_service', 'outcome'], (source, add) => {
    for (const [service, counts] of source.services) {
      for (const outcome of ['sent', 'gone', 'failed'] as const) add({ push_service: service, outcome }, counts[outcome]);
    }
  });
  summed('Counter', 'tidings_push_failures_total', 'Failed pushes by cause (http-4xx, http-429, http-5xx, too-large, timeout, network, circuit-open, endpoint-refused, address-refused, vapid, store, other).', ['push_service', 'cause'], (source, add) => {
    for (const [service, counts] of source.services) for (const [cause, count] of counts.causes) add({ push_service: service, cause }, count);
  });
  define(() => registry.registerMetric(latencyHistogram(sources)));
  summed('Gauge', 'tidings_circuit_breaker_hosts', "Push-service hosts this process remembers, by their circuit's state now: closed, open (skipped), half-open (the next push is a probe), throttled (paused by a 429).", ['push_service', 'state'], (source, add) => {
    const snapshot = source.breaker?.();
    if (!snapshot) return;
    const states = new Map<string, Record<string, number>>();
    for (const { group, state } of snapshot.hosts) {
      const label = source.serviceLabel(group);
      let row = states.get(label);
      if (!row) states.set(label, (row = { closed: 0, open: 0, 'half-open': 0, throttled: 0 }));
      row[state]!++;
    }
    for (const [service, row] of states) for (const [state, count] of Object.entries(row)) add({ push_service: service, state }, count);
  });
  summed('Gauge', 'tidings_circuit_breaker_service_open', 'Whether a push service is closed to its hosts not heard from yet (1), after too many of them were dead within a cool-down.', ['push_service'], (source, add) => {
    for (const { group, open } of source.breaker?.().services ?? []) add({ push_service: source.serviceLabel(group) }, open ? 1 : 0);
  });
  summed('Counter', 'tidings_events_total', "Worker events in requests the handler took, by verification: verified (signed by the subscription they name) or unverified (unsigned, counted apart).", ['verification'], (source, add) => {
    add({ verification: 'verified' }, source.events.verified);
    add({ verification: 'unverified' }, source.events.unverified);
  });
  summed('Counter', 'tidings_events_counted_total', 'Verified events that counted in the figures: the first of their message, subscription and type.', [], (source, add) => add({}, source.events.counted));
  summed('Counter', 'tidings_event_requests_refused_total', 'Events requests refused, nothing stored: signature (403, forged or wrong key), invalid (400, 413, 415), cross-site (403), rate-limited (429), error (500).', ['reason'], (source, add) => {
    for (const [reason, count] of source.eventsRefused) add({ reason }, count);
  });
  summed('Counter', 'tidings_registrations_total', 'Registrations (POST /subscriptions) by outcome: created, updated, conflict (409), unauthorized (401), invalid, cross-site, rate-limited, error.', ['outcome'], (source, add) => {
    for (const [outcome, count] of source.registrations) add({ outcome }, count);
  });
  summed('Counter', 'tidings_sends_created_total', 'Sends this process created, by the state they began in: running (sent at once), scheduled, queued.', ['state'], (source, add) => {
    for (const [state, count] of source.sendsCreated) add({ state }, count);
  });
  summed('Counter', 'tidings_sends_finished_total', 'Sends this process saw end, by final state: done, failed, cancelled.', ['state'], (source, add) => {
    for (const [state, count] of source.sendsFinished) add({ state }, count);
  });
  summed('Gauge', 'tidings_sends_running', 'Sends running in this process now (plain and scheduled sends of a push server).', [], (source, add) => {
    if (source.running) add({}, source.running());
  });
  // Read from Redis at the scrape, each queue once whichever sources name it.
  define(() => {
    const probes = () => new Map([...sources].flatMap((source) => (source.queue ? [[source.queue.name, source] as const] : [])));
    const depths = new Map<string, QueueDepth>();
    const read = async () => {
      depths.clear();
      await Promise.all(
        [...probes()].map(async ([name, source]) => {
          try {
            depths.set(name, await withTimeout(source.queue!.depth(), QUEUE_PROBE_TIMEOUT, `the depth of queue ${name}`));
          } catch (error) {
            source.onError(error);
          }
        }),
      );
    };
    // Both gauges come from one read: a scrape collects them at once, the first reads and the other waits for it.
    let reading: Promise<void> | undefined;
    const once = () => (reading ??= read().finally(() => (reading = undefined)));
    new client.Gauge({
      name: 'tidings_queue_jobs',
      help: 'Batches of queued sends in Redis by state: waiting (for a sender), delayed (scheduled, or a retry), active (a sender has it), failed (given up).',
      labelNames: ['queue', 'state'],
      registers,
      async collect(this: Gauge) {
        await once();
        this.reset();
        for (const [queue, depth] of depths) {
          for (const state of ['waiting', 'delayed', 'active', 'failed'] as const) this.set({ queue, state }, depth[state]);
        }
      },
    });
    new client.Gauge({
      name: 'tidings_queue_oldest_waiting_seconds',
      help: 'How long the oldest waiting batch has waited for a sender since it was due, in seconds (0: none waits).',
      labelNames: ['queue'],
      registers,
      async collect(this: Gauge) {
        await once();
        this.reset();
        for (const [queue, depth] of depths) this.set({ queue }, depth.oldestWaitingSeconds);
      },
    });
  });
}

/**
 * The push-service latency histogram. prom-client's Histogram takes observations one at
 * a time (a labels object and a closure per call); the sources keep their buckets as
 * numbers instead, so this metric hands the registry their sums in the shape its other
 * metrics give (`get()`: name, help, type and values), which is all a registry reads.
 */
function latencyHistogram(sources: Set<MetricsSource>) {
  const name = 'tidings_push_request_duration_seconds';
  const help = 'Time from sending a push to its answer (any HTTP status), per push service and protocol (http/1.1, h2; unknown when the transport cannot tell).';
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    async get() {
      const merged = new Map<string, { labels: Labels; buckets: number[]; sum: number; count: number }>();
      for (const source of sources) {
        for (const [service, counts] of source.services) {
          for (const [protocol, latency] of counts.latency) {
            const key = `${service} ${protocol}`;
            let row = merged.get(key);
            if (!row) merged.set(key, (row = { labels: { push_service: service, protocol }, buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 }));
            latency.buckets.forEach((count, i) => (row!.buckets[i]! += count));
            row.sum += latency.sum;
            row.count += latency.count;
          }
        }
      }
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const { labels, buckets, sum, count } of merged.values()) {
        let below = 0;
        LATENCY_BUCKETS.forEach((le, i) => values.push({ labels: { ...labels, le }, value: (below += buckets[i]!), metricName: `${name}_bucket` }));
        values.push({ labels: { ...labels, le: '+Inf' }, value: count, metricName: `${name}_bucket` });
        values.push({ labels, value: sum, metricName: `${name}_sum` });
        values.push({ labels, value: count, metricName: `${name}_count` });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`metrics: ${what} did not come within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
