/** A Map that holds at most `max` entries and forgets the least recently used first. */
export interface BoundedMap<K, V> {
  /** The value, marked as just used. */
  get(key: K): V | undefined;
  /** The value, without marking it used. */
  peek(key: K): V | undefined;
  /** Sets the value (as just used); past `max`, the least recently used entry goes (and `onEvict` hears of it). */
  set(key: K, value: V): void;
  delete(key: K): boolean;
  readonly size: number;
  /** Oldest (least recently used) first. */
  entries(): IterableIterator<[K, V]>;
}

/** No key: what `newest` holds when the last used key is not known. */
const NONE: unique symbol = Symbol('none');

/**
 * Every cache the sender keeps is keyed by something a registrant picks (a host name, an
 * origin), and registration is open to anyone: so each is bounded, and the entry that
 * was used longest ago is the one to go. A Map iterates in insertion order, so re-inserting
 * on use keeps the least recently used entry first.
 */
export function createBoundedMap<K, V>(max: number, onEvict?: (key: K, value: V) => void): BoundedMap<K, V> {
  const map = new Map<K, V>();
  // The key used last, already at the end: a send asks for the same origin's entry once a
  // push, and moving it to where it already is cost a delete and a set each time.
  let newest: K | typeof NONE = NONE;
  return {
    get(key) {
      const value = map.get(key);
      if (value !== undefined && newest !== key) {
        map.delete(key);
        map.set(key, value);
        newest = key;
      }
      return value;
    },
    peek: (key) => map.get(key),
    set(key, value) {
      map.delete(key);
      map.set(key, value);
      newest = key;
      while (map.size > max) {
        const [oldest, old] = map.entries().next().value as [K, V];
        map.delete(oldest);
        if (newest === oldest) newest = NONE;
        onEvict?.(oldest, old);
      }
    },
    delete(key) {
      if (newest === key) newest = NONE;
      return map.delete(key);
    },
    get size() {
      return map.size;
    },
    entries: () => map.entries(),
  };
}
