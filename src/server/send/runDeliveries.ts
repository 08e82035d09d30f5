import type { StoredSubscription } from '../stores/SubscriptionStore.js';
import { pushServiceGroup } from '../endpoints/pushServiceGroup.js';
import type { Ticket } from './createCircuitBreaker.js';
import { checkDeliveryEndpoint, deliver, type Delivery, type DeliveryOutcome, type DeliveryPolicy, type PayloadFor, type PushHeaders } from './deliver.js';
import { sendHeaders } from './preparePush.js';
import type { Pacer } from '../controls/createPacer.js';

/** First requests to hosts not heard from yet (one per host) that may be out beside `concurrency`. */
const PROBES = 256;
/** Subscriptions set aside at most (held for a host, waiting for a retry or an open circuit); past it no new one is read. */
const SET_ASIDE = 10_000;

export interface RunOptions {
  /** Pushes (and their bookkeeping) in flight at once. */
  concurrency: number;
  policy: DeliveryPolicy;
  headers: PushHeaders;
  /** The plaintext for a subscription, asked for once its host is reached; a failure fails that subscription (ours). */
  payloadFor: PayloadFor;
  /** Each subscription's outcome, once; a rejection fails the run. */
  done(entry: StoredSubscription, outcome: DeliveryOutcome): Promise<void> | void;
  /** Each subscription read waits for its slot (a send's `perSecond`) before its first attempt. */
  pacer?: Pacer | undefined;
  /**
   * Once aborted (a cancel), no subscription is read and none starts; pushes in flight
   * finish and are counted, and those read but not started (waiting for a retry or a
   * host) end with no outcome.
   */
  signal?: AbortSignal | undefined;
}

type Targets = AsyncIterator<StoredSubscription> | Iterator<StoredSubscription>;

interface Aside {
  deliveries: Delivery[];
  until: number;
  timer?: ReturnType<typeof setTimeout>;
  watching: boolean;
}

/**
 * Delivers to every subscription `targets` yields, `concurrency` at a time, asking the
 * circuit breaker before each attempt. A push the breaker holds (its host is being
 * probed, or asked to slow down), a retry in its backoff, and a push to a host whose
 * circuit opened after it had answered are set aside, without taking a slot, and taken
 * up again when the host's state changes or their time comes: so a send waits for a
 * push service's cool-down once and finishes its subscriptions after it, and pushes to
 * healthy hosts go on meanwhile. The first request to each host not heard from yet goes
 * beside the slots (up to PROBES at once), so hosts that never answer cost the send one
 * timeout, not one per slot's worth of them. At most SET_ASIDE pushes are set aside; past that no subscription is read
 * until some are done.
 */
export function runDeliveries(targets: Targets, { concurrency, policy, headers, payloadFor, done, pacer, signal }: RunOptions): Promise<void> {
  const base = sendHeaders(headers);
  return new Promise<void>((resolve, reject) => {
    const ready: Delivery[] = [];
    let head = 0;
    const aside = new Map<string, Aside>();
    const groups = new Map<string, string>();
    let setAside = 0;
    let active = 0;
    let probes = 0;
    let reading = false;
    let exhausted = false;
    let over = false;

    const fail = (error: unknown) => {
      if (over) return;
      over = true;
      for (const spot of aside.values()) clearTimeout(spot.timer);
      reject(error);
    };

    const pump = (): void => {
      if (signal?.aborted && !over) stop();
      while (!over && active < concurrency) {
        if (head < ready.length) {
          const next = ready[head++]!;
          if (head === ready.length) ready.length = head = 0;
          start(next);
          continue;
        }
        if (exhausted || reading || setAside >= SET_ASIDE) break;
        read();
      }
      if (!over && exhausted && !reading && active === 0 && probes === 0 && setAside === 0 && head === ready.length) {
        over = true;
        resolve();
      }
    };

    /**
     * A push that ended frees its slot for the next one after the answers that arrived
     * with it have been read (setImmediate: once per turn of the event loop), not at once:
     * the next pushes are then encrypted and written one after another, not each between
     * two answers. Taking turns so cost a send a fifth more CPU per push, as the
     * encryption's tables and Node's HTTP code pushed each other out of the CPU's caches.
     */
    let soon = false;
    const pumpSoon = () => {
      if (soon) return;
      soon = true;
      setImmediate(() => {
        soon = false;
        pump();
      });
    };

    /** A cancel: nothing more is read or started; what is waiting is dropped, uncounted. */
    const stop = () => {
      exhausted = true;
      ready.length = head = 0;
      for (const spot of aside.values()) clearTimeout(spot.timer);
      aside.clear();
      setAside = 0;
    };

    const read = () => {
      let next: IteratorResult<StoredSubscription> | Promise<IteratorResult<StoredSubscription>>;
      try {
        next = targets.next();
      } catch (error) {
        return fail(error);
      }
      const take = (result: IteratorResult<StoredSubscription>) => {
        if (result.done) exhausted = true;
        // A push that waited for its slot through a cancel does not start.
        else if (!signal?.aborted) start(delivery(result.value));
      };
      if (!(next instanceof Promise) && !pacer) return take(next);
      reading = true;
      // With a pacer, the next subscription is not read until its push may start.
      Promise.resolve(next)
        .then(async (result) => {
          if (!result.done && pacer) await pacer.take();
          return result;
        })
        .then((result) => {
          reading = false;
          take(result);
          pump();
        }, fail);
    };

    const delivery = (entry: StoredSubscription): Delivery => ({ entry, url: undefined!, origin: '', group: '', attempts: 0, unread: 0, notBefore: 0, waited: false });

    const start = (item: Delivery) => {
      if (!item.url) {
        const checked = checkDeliveryEndpoint(item.entry, policy.endpoints);
        if (!(checked instanceof URL)) return finish(item, checked);
        item.url = checked;
        item.origin = checked.origin;
        let group = groups.get(item.origin);
        if (group === undefined) groups.set(item.origin, (group = pushServiceGroup(checked.hostname, policy.endpoints.pushServices)));
        item.group = group;
      }
      if (item.notBefore > Date.now()) return putAside(item, item.notBefore);
      const admission = policy.breaker.admit(item.origin, item.group);
      if (admission.verdict === 'go') return attempt(item, admission.ticket);
      if (admission.verdict === 'hold') return putAside(item, admission.until);
      if (admission.wait && !item.waited) {
        item.waited = true;
        item.notBefore = admission.until;
        return putAside(item, admission.until);
      }
      // Skipped: a push that was tried keeps its own failure as the reason.
      finish(item, item.last ?? { outcome: 'failed', reason: 'circuit-open' });
    };

    const attempt = (item: Delivery, ticket: Ticket) => {
      const probe = ticket.unproven && probes < PROBES;
      if (probe) probes++;
      else active++;
      const release = () => (probe ? probes-- : active--);
      const run = async (): Promise<void> => {
        let next;
        try {
          next = await deliver(item, ticket, base, policy, payloadFor);
        } catch (cause) {
          next = { outcome: { outcome: 'failed', reason: String(cause), ours: true } as DeliveryOutcome };
        }
        return settle(item, next);
      };
      const settle = async (item: Delivery, next: { outcome?: DeliveryOutcome; retry?: number }) => {
        if (next.outcome) await conclude(item, next.outcome);
        else {
          item.notBefore = Date.now() + next.retry!;
          putAside(item, item.notBefore);
        }
      };
      run().then(
        () => {
          release();
          pumpSoon();
        },
        (error) => {
          release();
          fail(error);
        },
      );
    };

    /** Every push ends here, once: the observer hears of it, then the caller. */
    const conclude = (item: Delivery, outcome: DeliveryOutcome) => {
      policy.observer?.concluded(item.group, outcome);
      return done(item.entry, outcome);
    };

    /** An outcome without an attempt (refused endpoint, open circuit): its bookkeeping takes a slot too. */
    const finish = (item: Delivery, outcome: DeliveryOutcome) => {
      active++;
      Promise.resolve()
        .then(() => conclude(item, outcome))
        .then(
          () => {
            active--;
            pump();
          },
          fail,
        );
    };

    const putAside = (item: Delivery, until: number | undefined) => {
      let spot = aside.get(item.origin);
      if (!spot) aside.set(item.origin, (spot = { deliveries: [], until: Infinity, watching: false }));
      spot.deliveries.push(item);
      setAside++;
      if (until !== undefined) {
        if (until < spot.until) {
          clearTimeout(spot.timer);
          spot.until = until;
          spot.timer = setTimeout(() => takeUp(item.origin), Math.max(0, until - Date.now()));
        }
      } else if (!spot.watching) {
        spot.watching = true;
        policy.breaker.changed(item.origin).then(() => takeUp(item.origin));
      }
    };

    const takeUp = (origin: string) => {
      if (signal?.aborted) return pump();
      const spot = aside.get(origin);
      if (!spot || over) return;
      aside.delete(origin);
      clearTimeout(spot.timer);
      setAside -= spot.deliveries.length;
      for (const item of spot.deliveries) ready.push(item);
      pump();
    };

    signal?.addEventListener('abort', () => pump(), { once: true });
    pump();
  });
}
