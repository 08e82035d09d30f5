// Throttling (`perSecond`): at most n pushes start in each clock second, spread evenly over
// its first 900 ms, so that pushes started in one second reach the push service in that
// same second (a burst at a second's end would land in the next one, which then gets more
// than n). Slots are booked in chunks: from memory for a plain send (one process runs
// it), from Redis for a queued one (queueThrottle.ts runs the same rule in a script, so
// every sender of the send shares it).

/** Of each second, the part in which pushes start. */
export const SPREAD_MS = 900;

/** Where the booking of one send stands: the window (second, ms / 1000) and how many of its slots are taken. */
export interface SlotState {
  window: number;
  taken: number;
}

/** Slots granted: `count` of them, the first being slot `first` of second `window`. */
export interface Grant {
  window: number;
  first: number;
  count: number;
}

/**
 * Books up to `want` slots at `now` for `perSecond`, updating `state`: in the current
 * second if it has slots left and has not passed its spread (a second joined late starts
 * at the slot its clock has reached, not with a burst of the ones it missed), else in the
 * next one. Never more than one second ahead of the clock, and never more slots than a
 * second has.
 */
export function bookSlots(state: SlotState, now: number, perSecond: number, want: number): Grant {
  const current = Math.floor(now / 1000);
  if (state.window < current) {
    const into = now - current * 1000;
    Object.assign(state, into < SPREAD_MS ? { window: current, taken: Math.ceil((perSecond * into) / SPREAD_MS) } : { window: current + 1, taken: 0 });
  }
  if (state.taken >= perSecond) Object.assign(state, { window: state.window + 1, taken: 0 });
  const count = Math.min(want, perSecond - state.taken);
  const grant = { window: state.window, first: state.taken, count };
  state.taken += count;
  return grant;
}

/** When slot `i` of a grant starts, ms since the epoch. */
export function slotTime(grant: Grant, i: number, perSecond: number): number {
  return grant.window * 1000 + Math.floor((SPREAD_MS * (grant.first + i)) / perSecond);
}

/** Books up to `want` slots; answers when each starts, in ms from the booking's own clock reading. */
export type Booking = (want: number) => Promise<number[]>;

export interface Pacer {
  /** Resolves when the next push may start. */
  take(): Promise<void>;
}

/** A send's slots from memory, for a send that one process runs. */
export function localBooking(perSecond: number, now: () => number = Date.now): Booking {
  const state: SlotState = { window: -1, taken: 0 };
  return async (want) => {
    const at = now();
    const grant = bookSlots(state, at, perSecond, want);
    return Array.from({ length: grant.count }, (_, i) => slotTime(grant, i, perSecond) - at);
  };
}

/**
 * Hands out booked slots to the pushes of a send, booking `chunk` at a time (one booking
 * in flight), and never more than `budget` in all (a queued batch knows its size, so it
 * leaves no slot unused that another sender could have had).
 */
export function createPacer(book: Booking, chunk: number, budget = Infinity): Pacer {
  const starts: number[] = [];
  let booked = 0;
  let booking: Promise<void> | undefined;
  const refill = async (): Promise<void> => {
    while (starts.length === 0) {
      const want = Math.min(chunk, budget - booked);
      if (want <= 0) return;
      const reading = Date.now();
      const delays = await book(want);
      booked += delays.length;
      for (const delay of delays) starts.push(reading + delay);
      // A full window answers no slot: ask again once the next second has begun.
      if (delays.length === 0) await sleep(1000 - (Date.now() % 1000));
    }
  };
  return {
    async take() {
      while (starts.length === 0) {
        if (booked >= budget) return;
        await (booking ??= refill().finally(() => (booking = undefined)));
      }
      const start = starts.shift()!;
      const wait = start - Date.now();
      if (wait > 0) await sleep(wait);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
