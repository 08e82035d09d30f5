import { invalidOption as invalid } from '../common/checkOptions.js';
import { requireOptional } from '../common/requireOptional.js';
import type { Reporter } from '../stats/createReporter.js';
import { createMetricsSource, type MetricsSource } from './createMetricsSource.js';
import type { MetricsRegistry } from './MetricsRegistry.js';
import { attachSource } from './registryMetrics.js';

/** A push server's, sender's or queue's metrics: the registry they are read from, and what counts into it. */
export interface Metrics {
  registry: MetricsRegistry;
  source: MetricsSource;
}

/**
 * The `metrics` option of createPushServer, startSendWorker and createSendQueue, checked
 * once: `false` or absent, none (nothing is counted, nothing loaded); `true`, a registry
 * of their own; a registry, the site's. Loads prom-client, an optional peer: without it,
 * TidingsError `missing-dependency` naming it. A registry that throws while tidings'
 * metrics are defined in it is reported to `onError`, and nothing else fails.
 */
export function metricsOption(value: boolean | MetricsRegistry | undefined, onError: (error: unknown) => void): Metrics | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && !isRegistry(value)) invalid('metrics', "must be true, false or a prom-client Registry (it has registerMetric() and metrics())");
  const client = requireOptional<typeof import('prom-client')>('prom-client', '15');
  const registry = value === true ? (new client.Registry() as unknown as MetricsRegistry) : value;
  const source = createMetricsSource(onError);
  attachSource(client, registry, source);
  return { registry, source };
}

/** Counts each send that ends as its report (`message.send.finished`) goes by, then reports it. */
export function countFinishedSends(report: Reporter, source: MetricsSource | undefined): Reporter {
  if (!source) return report;
  return (event) => {
    if (event.kind === 'message.send.finished') source.sendFinished(event.send.state);
    report(event);
  };
}

function isRegistry(value: unknown): value is MetricsRegistry {
  const registry = value as Partial<MetricsRegistry> | null;
  return typeof registry === 'object' && registry !== null && typeof registry.registerMetric === 'function' && typeof registry.metrics === 'function' && typeof registry.getSingleMetric === 'function';
}
