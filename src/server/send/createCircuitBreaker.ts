import { createBoundedMap } from '../common/createBoundedMap.js';

/**
 * How a request to a push service ended, for the breaker:
 * - `answered`: an HTTP answer that says the host works (2xx, 3xx, 4xx but 429);
 * - `server-error`: a 5xx, the host is there but failing;
 * - `no-answer`: a network error or a timeout;
 * - `unresolved`: the host's name does not resolve;
 * - `throttled`: 429, the host asks to slow down (for `retryAfter` ms when it said);
 * - `neutral`: says nothing of the host (refused before connecting, turned away unread).
 */
export type RequestResult = 'answered' | 'server-error' | 'no-answer' | 'unresolved' | 'throttled' | 'neutral';

/** A request the breaker let go; hand it back to `end`. */
export interface Ticket {
  /** The push service's origin (scheme, host, port): what the breaker keys on. */
  readonly origin: string;
  /** The one request a host never heard from (or a failing one) gets at a time. */
  readonly probe: boolean;
  /** The host has never answered: this is its first request out, which may go beside a send's slots. */
  readonly unproven: boolean;
}

/** What a push to a host may do now. */
export type Admission =
  | { verdict: 'go'; ticket: Ticket }
  /**
   * Not now: a probe of the host (or enough first requests to its push service) is out,
   * or the host is being checked: wait for `changed`. Or it asked to slow down `until`.
   */
  | { verdict: 'hold'; until?: number }
  /**
   * Skipped until `until`. `wait`: the host answered before and this is its first opening,
   * so a send may keep the push and try again then; otherwise fail it (`circuit-open`).
   */
  | { verdict: 'open'; until: number; wait: boolean };

export interface CircuitBreaker {
  /** Asks to send to `origin` (of push service `group`, see pushServiceGroup); a `go` must be ended. */
  admit(origin: string, group: string): Admission;
  /** The request ended. Answers whether the host has ever answered: silence from one that never has is not worth a retry. */
  end(ticket: Ticket, result: RequestResult, retryAfter?: number): boolean;
  /** Resolves when what holds the host may have changed: a request to it (or a first request to its push service) ended, or a check of it. */
  changed(origin: string): Promise<void>;
  /** Every host and push service remembered, and its state now (for the metrics; a walk over at most MAX_HOSTS). */
  snapshot(): CircuitSnapshot;
}

/**
 * A host's circuit now: `closed` (pushes go), `open` (skipped until its cool-down ends),
 * `half-open` (the cool-down ended: the next push is the one probe), `throttled` (paused
 * for a 429's Retry-After).
 */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'throttled';

export interface CircuitSnapshot {
  /** Each host remembered, with its push service (pushServiceGroup). */
  hosts: { group: string; state: CircuitState }[];
  /** Each push service remembered; `open` while it is closed to its hosts not heard from yet (too many of them were dead). */
  services: { group: string; open: boolean }[];
}

export interface CircuitBreakerOptions {
  /** Failures in a row that open a host's circuit; also how many dead hosts close their push service to hosts not heard from yet. */
  failures: number;
  /** ms a host (or push service) is skipped once open. */
  coolDown: number;
  /**
   * Whether a host answers at all (transport.alive), asked before silence opens a host:
   * pushes that time out may be endpoints that hang on a host that works. Without it,
   * silence opens the circuit as other failures do.
   */
  alive?: (origin: string) => Promise<boolean>;
  now?: () => number;
}

interface GroupState {
  /** The push service (pushServiceGroup). */
  name: string;
  /** Hosts of the group found dead before they ever answered, since `since`. */
  dead: number;
  since: number;
  openUntil: number;
  /** A host of the group not heard from yet is being tried while the group is open. */
  probing: boolean;
  /** First requests to hosts of the group not heard from yet, out now. */
  unprovenInFlight: number;
  waiters: (() => void)[];
}

interface HostState {
  group: GroupState;
  /** When the host last gave any HTTP answer (0: never, it is unproven). */
  answeredAt: number;
  /** When it last gave an answer that is not a failure. */
  healthyAt: number;
  failures: number;
  /** 0: closed; in the future: open; in the past: half-open (one probe at a time). */
  openUntil: number;
  /** Open again after its half-open probe failed: a send no longer waits for it. */
  reopened: boolean;
  /** Being asked whether it answers at all: everything waits for the verdict. */
  checking: boolean;
  inFlight: number;
  pausedUntil: number;
  /** 429 pauses in a row that did not help, and when the first of them began. */
  throttles: number;
  throttledSince: number;
  waiters: (() => void)[];
}

interface HostTicket extends Ticket {
  state: HostState;
  startedAt: number;
  groupProbe: boolean;
}

/** Hosts and push services remembered at most; registration is open to anyone, and so is the set of hosts. */
const MAX_HOSTS = 10_000;
const MAX_GROUPS = 4_096;

/**
 * The failure budget of every send in this process, per push-service origin (Mastodon's
 * rule, PUSH-FACTS 7: 10 failures, 60 s), made so that a failure decides only what it
 * says something about:
 *
 * - A failure counts against a host only if the host answered nothing while the request
 *   was out: endpoints of a working host that hang fail on their own and do not open the
 *   circuit over the healthy ones. Silence is not taken for death either: before it
 *   opens a host, the host is asked whether it answers at all (`alive`).
 * - A host never heard from gets one request at a time until it answers. If that request
 *   goes unanswered and the host does not answer the check either (or its name does not
 *   resolve), it is dead: skipped for the cool-down, its pushes failed, not waited for.
 *   So a host that never answers costs a send one attempt and one check, however many
 *   subscriptions name it.
 * - A push service gets at most `failures` first requests to its hosts not heard from yet
 *   at once, and once `failures` of them were dead within a cool-down, it is closed to
 *   such hosts but for one probe at a time: junk names under a real push service cost a
 *   send a few lookups, and nothing after, while the service's working hosts go on.
 * - After the cool-down one probe goes; an answer closes the circuit, a failure reopens
 *   it. Only the first opening of a host that answered before is worth a send's wait.
 * - A 429 pauses the host for its Retry-After (capped by the caller; else a backoff that
 *   doubles), after which one request goes before the rest; `failures` pauses in a row, or
 *   a cool-down's worth of them, without an answer in between open it.
 */
export function createCircuitBreaker({ failures, coolDown, alive, now = Date.now }: CircuitBreakerOptions): CircuitBreaker {
  const hosts = createBoundedMap<string, HostState>(MAX_HOSTS);
  const groups = createBoundedMap<string, GroupState>(MAX_GROUPS);

  const groupState = (name: string): GroupState => {
    let group = groups.get(name);
    if (!group) groups.set(name, (group = { name, dead: 0, since: 0, openUntil: 0, probing: false, unprovenInFlight: 0, waiters: [] }));
    return group;
  };
  const hostState = (origin: string, group: string): HostState => {
    let state = hosts.get(origin);
    if (!state) {
      state = {
        group: groupState(group),
        answeredAt: 0,
        healthyAt: 0,
        failures: 0,
        openUntil: 0,
        reopened: false,
        checking: false,
        inFlight: 0,
        pausedUntil: 0,
        throttles: 0,
        throttledSince: 0,
        waiters: [],
      };
      hosts.set(origin, state);
    }
    return state;
  };
  const wake = (holder: { waiters: (() => void)[] }) => {
    const waiters = holder.waiters;
    holder.waiters = [];
    for (const resolve of waiters) resolve();
  };
  const open = (state: HostState, time: number, until = time + coolDown) => {
    if (state.openUntil !== 0 && state.openUntil <= time) state.reopened = true;
    else if (state.answeredAt === 0) {
      // One more dead host of its push service.
      const { group } = state;
      if (group.since + coolDown <= time) {
        group.dead = 0;
        group.since = time;
      }
      if (++group.dead >= failures) group.openUntil = time + coolDown;
    }
    state.openUntil = until;
  };
  /** Silence: down, or endpoints that hang? Ask the host; everything to it waits meanwhile. */
  const check = (origin: string, state: HostState) => {
    if (!alive) return open(state, now());
    if (state.checking) return;
    state.checking = true;
    alive(origin)
      .catch(() => false)
      .then((answers) => {
        state.checking = false;
        const time = now();
        if (answers) {
          state.answeredAt ||= time;
          state.healthyAt = time;
          state.failures = 0;
        } else open(state, time);
        wake(state);
      });
  };

  return {
    admit(origin, groupName) {
      const time = now();
      const state = hostState(origin, groupName);
      const { group } = state;
      if (state.openUntil > time) return { verdict: 'open', until: state.openUntil, wait: state.answeredAt > 0 && !state.reopened };
      if (state.checking) return { verdict: 'hold' };
      const unproven = state.answeredAt === 0;
      let groupProbe = false;
      if (unproven && group.openUntil > time) {
        if (group.probing) return { verdict: 'open', until: group.openUntil, wait: false };
        groupProbe = true;
      }
      if (state.pausedUntil > time) return { verdict: 'hold', until: state.pausedUntil };
      const probe = unproven || state.failures > 0 || state.openUntil !== 0 || state.throttles > 0;
      if (probe && state.inFlight > 0) return { verdict: 'hold' };
      // Names under one push service are free to make up: only so many of its unknown hosts at once.
      if (unproven && group.unprovenInFlight >= failures) return { verdict: 'hold' };
      state.inFlight++;
      if (unproven) group.unprovenInFlight++;
      if (groupProbe) group.probing = true;
      const ticket: HostTicket = { origin, probe, unproven, state, startedAt: time, groupProbe };
      return { verdict: 'go', ticket };
    },

    end(ticket, result, retryAfter) {
      const { origin, state, startedAt, groupProbe, unproven } = ticket as HostTicket;
      const { group } = state;
      const time = now();
      state.inFlight--;
      if (unproven) group.unprovenInFlight--;
      if (groupProbe) group.probing = false;
      if (result === 'answered') {
        state.answeredAt = state.healthyAt = time;
        state.failures = state.throttles = 0;
        state.openUntil = 0;
        state.reopened = false;
      } else if (result === 'throttled') {
        state.answeredAt = time;
        // The 429s of one burst are one signal: only a pause that ran out and did not help counts.
        if (state.pausedUntil <= time && state.throttles++ === 0) state.throttledSince = time;
        const pause = retryAfter ?? Math.min(coolDown, 1000 * 2 ** (state.throttles - 1));
        state.pausedUntil = Math.max(state.pausedUntil, time + pause);
        // Slowed down for a whole cool-down, or `failures` pauses, without one answer: skip it.
        if (state.throttles >= failures || time - state.throttledSince >= coolDown) open(state, time, Math.max(time + coolDown, state.pausedUntil));
      } else if (result !== 'neutral') {
        if (result === 'server-error') state.answeredAt = time;
        // An answer to another request while this one was out: the host works, this endpoint does not.
        if (state.healthyAt <= startedAt) {
          state.failures++;
          const halfOpen = state.openUntil !== 0 && state.openUntil <= time;
          if (halfOpen) open(state, time);
          else if (state.answeredAt === 0) {
            if (result === 'unresolved') open(state, time);
            else check(origin, state);
          } else if (state.failures >= failures) {
            if (result === 'no-answer') check(origin, state);
            else open(state, time);
          }
        }
      }
      wake(state);
      if (unproven) wake(group);
      return state.answeredAt > 0;
    },

    changed(origin) {
      const state = hosts.peek(origin);
      if (state && (state.inFlight > 0 || state.checking)) return new Promise((resolve) => state.waiters.push(resolve));
      if (state && state.answeredAt === 0 && state.group.unprovenInFlight > 0) return new Promise((resolve) => state.group.waiters.push(resolve));
      return Promise.resolve();
    },

    snapshot() {
      const time = now();
      const snapshot: CircuitSnapshot = { hosts: [], services: [] };
      for (const [, state] of hosts.entries()) snapshot.hosts.push({ group: state.group.name, state: circuitState(state, time) });
      for (const [name, group] of groups.entries()) snapshot.services.push({ group: name, open: group.openUntil > time });
      return snapshot;
    },
  };
}

function circuitState(state: HostState, time: number): CircuitState {
  if (state.openUntil > time) return 'open';
  if (state.pausedUntil > time) return 'throttled';
  // Open once, its cool-down over, and no answer since: the next push is its probe.
  return state.openUntil !== 0 ? 'half-open' : 'closed';
}
