/** What became of a `POST {basePath}/subscriptions`, for the metrics. */
export type RegistrationOutcome = 'created' | 'updated' | 'conflict' | 'unauthorized' | 'invalid' | 'cross-site' | 'rate-limited' | 'error';

/** Why a `POST {basePath}/events` was refused, for the metrics. */
export type EventsRefusal = 'signature' | 'invalid' | 'cross-site' | 'rate-limited' | 'error';

/**
 * Told what the handler did with each registration and events request (the metrics,
 * src/server/metrics). Called once per request; an implementation must never throw.
 */
export interface HttpObserver {
  registration(outcome: RegistrationOutcome): void;
  /** An events request was taken: `received` events, signed by their subscription or not, of which `counted` counted. */
  eventsAccepted(verified: boolean, received: number, counted: number): void;
  eventsRefused(reason: EventsRefusal): void;
}
