/** A failure budget per push-service host. */
export interface CircuitBreaker {
  /** False while the host is in its cool-down: skip it, do not connect. */
  allows(host: string): boolean;
  /** The host answered (anything but a 5xx): its run of failures ends. */
  succeeded(host: string): void;
  /** A network error, timeout or 5xx. Resolves true when this failure opened the circuit. */
  failed(host: string): boolean;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a host's circuit. */
  failures: number;
  /** ms a host is skipped once open. */
  coolDown: number;
  now?: () => number;
}

/** Hosts remembered at most; failing ones, since a success forgets the host. */
const MAX_HOSTS = 10_000;

/**
 * Mastodon's rule (PUSH-FACTS 7: 10 failures, 60 s): after `failures` consecutive
 * failures a host is skipped for `coolDown`, so subscriptions on a dead or hanging push
 * service cost one timeout, not one each. After the cool-down the host is tried again
 * and one more failure reopens it at once.
 */
export function createCircuitBreaker({ failures, coolDown, now = Date.now }: CircuitBreakerOptions): CircuitBreaker {
  const hosts = new Map<string, { count: number; openUntil: number }>();
  return {
    allows(host) {
      const state = hosts.get(host);
      if (!state || state.openUntil === 0) return true;
      if (state.openUntil > now()) return false;
      // Half-open: let traffic through, with one failure left in the budget.
      state.openUntil = 0;
      state.count = failures - 1;
      return true;
    },
    succeeded(host) {
      hosts.delete(host);
    },
    failed(host) {
      let state = hosts.get(host);
      if (!state) {
        // Registration is open to anyone, and so is the set of hosts: forget the oldest.
        if (hosts.size >= MAX_HOSTS) hosts.delete(hosts.keys().next().value!);
        state = { count: 0, openUntil: 0 };
        hosts.set(host, state);
      }
      if (state.openUntil > now()) return false;
      state.count++;
      if (state.count < failures) return false;
      state.openUntil = now() + coolDown;
      return true;
    },
  };
}
