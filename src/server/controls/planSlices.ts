import type { SubscriptionQuery } from '../audience/Audience.js';
import { checkSubscriptionQuery } from '../audience/checkAudience.js';
import type { StoredSubscription } from '../stores/SubscriptionStore.js';
import { nextLocalTime, quietHoursEnd } from './localClock.js';
import type { SendControls } from './sendControls.js';

/**
 * One part of a send that goes at one instant: the subscribers whose `timeZone` attribute
 * is one of `zones`, or, for the slice of the send's own `timeZone` (`rest`), also every
 * subscriber whose zone no other slice lists (none, one this server does not know, one
 * that joined later). A send without local time or quiet hours is one slice with neither:
 * everyone. JSON-safe: queued and stored sends carry their slices.
 */
export interface SendSlice {
  /** When it goes, ms since the epoch. */
  at: number;
  zones?: string[];
  /** For the rest slice: the zones the other slices take. */
  except?: string[];
}

/** Every zone this runtime knows (and UTC, which Intl does not list). */
let allZones: string[] | undefined;
const knownZones = (): string[] => (allZones ??= [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])]);

/**
 * Splits a send into slices (DESIGN.md, Sending controls): each known time zone's instant
 * is its next `localTime` at or after `start` (or `start` itself), moved to the end of its
 * quiet hours when it falls inside them; zones with the same instant share a slice (a few
 * dozen slices cover the world). Ordered by time. Pure: the same send planned in any
 * process gives the same slices.
 */
export function planSlices(controls: SendControls, start: number): SendSlice[] {
  if (controls.localTime === undefined && controls.quietHours === undefined) return [{ at: start }];
  const instantIn = (zone: string): number => {
    const at = controls.localTime === undefined ? start : nextLocalTime(start, controls.localTime, zone);
    return (controls.quietHours && quietHoursEnd(at, controls.quietHours, zone)) ?? at;
  };
  const byInstant = new Map<number, string[]>();
  for (const zone of knownZones()) {
    const at = instantIn(zone);
    byInstant.set(at, [...(byInstant.get(at) ?? []), zone]);
  }
  const restAt = instantIn(controls.timeZone);
  const listed = [...byInstant.values()].flat();
  const slices: SendSlice[] = [...byInstant].map(([at, zones]) =>
    at === restAt ? { at, zones, except: listed.filter((zone) => !zones.includes(zone)) } : { at, zones },
  );
  return slices.sort((a, b) => a.at - b.at);
}

/** A slice's zone lists as sets, made once per slice object (the rest slice lists hundreds). */
const zoneSets = new WeakMap<SendSlice, { zones: Set<string>; except: Set<string> }>();

/** Whether a subscriber belongs to a slice, by its `timeZone` attribute as stored. */
export function inSlice(entry: StoredSubscription, slice: SendSlice): boolean {
  if (!slice.zones) return true;
  let sets = zoneSets.get(slice);
  if (!sets) zoneSets.set(slice, (sets = { zones: new Set(slice.zones), except: new Set(slice.except) }));
  const zone = entry.attributes.timeZone;
  if (slice.except) return typeof zone !== 'string' || !sets.except.has(zone);
  return typeof zone === 'string' && sets.zones.has(zone);
}

/**
 * The store query of a slice: the send's query narrowed to the slice's zones where the
 * audience can say so within its limits, so the store reads only those subscribers; else
 * (the rest slice, an audience that names `timeZone` itself or is near its limits) the
 * send's query, and `inSlice` picks the slice's subscribers from what it reads.
 */
export function sliceQuery(query: SubscriptionQuery, slice: SendSlice): SubscriptionQuery {
  if (!slice.zones || slice.except || query.attributes?.timeZone !== undefined) return query;
  const narrowed: SubscriptionQuery = { ...query, attributes: { ...query.attributes, timeZone: slice.zones } };
  try {
    checkSubscriptionQuery(narrowed);
    return narrowed;
  } catch {
    return query;
  }
}
