/**
 * A Prometheus registry, as tidings uses one: prom-client's `Registry` (version 15) has
 * this shape, so pass one of yours (`new Registry()`, or prom-client's default
 * `register`), or let tidings make one (`metrics: true`). Typed here, so that tidings'
 * own types need no prom-client installed.
 */
export interface MetricsRegistry {
  /** Every metric in Prometheus' text format: what a `/metrics` endpoint answers. */
  metrics(): Promise<string>;
  /** The content type of that text (`text/plain; version=0.0.4; charset=utf-8`). */
  readonly contentType: string;
  registerMetric(metric: unknown): void;
  getSingleMetric(name: string): unknown;
}
