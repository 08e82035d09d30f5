/** A failure budget per push-service host. */
export interface CircuitBreaker {
  /** False while the host is in its cool-down: skip it, do not connect. */
  allows(host: string): boolean;
  /** A request to the host starts; pass the ticket to `end`. */
  start(host: string): number;
  /**
   * The request ended: `ok` (the host answered, anything but a 5xx), `failed` (a network
   * error, timeout or 5xx) or `neutral` (refused before connecting: says nothing of the host).
   */
  end(host: string, ticket: number, result: 'ok' | 'failed' | 'neutral'): void;
  /**
   * Resolves at once for a host with no failure in its current run; for a failing one,
   * once every request to it that started before now has ended, or its circuit opens.
   * A request waits for this before it starts, so that the breaker has heard from the
   * requests already in flight to a failing host before it lets another one go.
   */
  settled(host: string): Promise<void>;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a host's circuit. */
  failures: number;
  /** ms a host is skipped once open. */
  coolDown: number;
  now?: () => number;
}

interface HostState {
  count: number;
  openUntil: number;
  pending: Set<number>;
  waiters: { upTo: number; resolve: () => void }[];
}

/** Hosts remembered at most (failing or busy ones: a host that answers is forgotten). */
const MAX_HOSTS = 10_000;

/**
 * Mastodon's rule (PUSH-FACTS 7: 10 failures, 60 s): after `failures` consecutive
 * failures a host is skipped for `coolDown`, so subscriptions on a dead or hanging push
 * service cost one timeout, not one each. After the cool-down the host is tried again
 * and one more failure reopens it at once.
 */
export function createCircuitBreaker({ failures, coolDown, now = Date.now }: CircuitBreakerOptions): CircuitBreaker {
  const hosts = new Map<string, HostState>();
  let tickets = 0;

  const state = (host: string): HostState => {
    let found = hosts.get(host);
    if (!found) {
      // Registration is open to anyone, and so is the set of hosts: forget the oldest.
      if (hosts.size >= MAX_HOSTS) hosts.delete(hosts.keys().next().value!);
      found = { count: 0, openUntil: 0, pending: new Set(), waiters: [] };
      hosts.set(host, found);
    }
    return found;
  };
  const wake = (found: HostState, all: boolean) => {
    let oldest = Infinity;
    for (const ticket of found.pending) oldest = Math.min(oldest, ticket);
    found.waiters = found.waiters.filter((waiter) => {
      if (!all && waiter.upTo >= oldest) return true;
      waiter.resolve();
      return false;
    });
  };
  const forgetIfIdle = (host: string, found: HostState) => {
    if (found.count === 0 && found.openUntil === 0 && found.pending.size === 0 && found.waiters.length === 0) hosts.delete(host);
  };

  return {
    allows(host) {
      const found = hosts.get(host);
      if (!found || found.openUntil === 0) return true;
      if (found.openUntil > now()) return false;
      // Half-open: let traffic through, with one failure left in the budget.
      found.openUntil = 0;
      found.count = failures - 1;
      return true;
    },
    start(host) {
      const ticket = ++tickets;
      state(host).pending.add(ticket);
      return ticket;
    },
    end(host, ticket, result) {
      const found = state(host);
      found.pending.delete(ticket);
      if (result === 'ok') found.count = 0;
      else if (result === 'failed' && !(found.openUntil > now())) {
        found.count++;
        if (found.count >= failures) found.openUntil = now() + coolDown;
      }
      wake(found, found.openUntil > now());
      forgetIfIdle(host, found);
    },
    settled(host) {
      const found = hosts.get(host);
      if (!found || found.count === 0 || found.pending.size === 0 || found.openUntil > now()) return Promise.resolve();
      return new Promise((resolve) => {
        found.waiters.push({ upTo: tickets, resolve });
        wake(found, false);
      });
    },
  };
}
