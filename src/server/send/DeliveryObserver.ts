import type { DeliveryOutcome } from './deliver.js';

/**
 * Told what each push did, for the metrics (src/server/metrics). Called on the hot path
 * by deliver and runDeliveries, whatever the transport, so an implementation must cost a
 * few increments, allocate nothing per push and never throw: what it counts is read when
 * the metrics are scraped, not here.
 */
export interface DeliveryObserver {
  /**
   * A push service answered one request (any HTTP status) after `seconds`, over
   * `protocol` (undefined when the transport cannot tell). `group` is the push service
   * (pushServiceGroup).
   */
  answered(group: string, protocol: string | undefined, seconds: number): void;
  /** A push ended, once per subscription however many attempts it took; `group` is '' when no push service was named (a refused endpoint). */
  concluded(group: string, outcome: DeliveryOutcome): void;
}
