import { describe, expect, it } from 'vitest';
import { createBoundedMap } from '../../../src/server/common/createBoundedMap.js';

const keys = <K, V>(map: { entries(): IterableIterator<[K, V]> }) => [...map.entries()].map(([key]) => key);

describe('createBoundedMap', () => {
  it('forgets the least recently used first, however often the newest is asked for', () => {
    const evicted: string[] = [];
    const map = createBoundedMap<string, number>(3, (key) => evicted.push(key));
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect(map.get('a')).toBe(1);
    expect(map.get('a')).toBe(1);
    expect(keys(map)).toEqual(['b', 'c', 'a']);
    expect(map.get('b')).toBe(2);
    expect(keys(map)).toEqual(['c', 'a', 'b']);
    map.set('d', 4);
    expect(evicted).toEqual(['c']);
    expect(keys(map)).toEqual(['a', 'b', 'd']);
  });

  it('moves a key again after the newest one was deleted or set anew', () => {
    const map = createBoundedMap<string, number>(3);
    map.set('a', 1);
    map.set('b', 2);
    map.get('a');
    map.delete('a');
    map.set('a', 5);
    map.set('c', 3);
    expect(keys(map)).toEqual(['b', 'a', 'c']);
    expect(map.get('a')).toBe(5);
    expect(keys(map)).toEqual(['b', 'c', 'a']);
    map.delete('a');
    expect(map.get('b')).toBe(2);
    expect(keys(map)).toEqual(['c', 'b']);
    expect(map.peek('c')).toBe(3);
    expect(keys(map)).toEqual(['c', 'b']);
  });
});
