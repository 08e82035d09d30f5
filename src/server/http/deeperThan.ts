/**
 * True when `value` (a parsed JSON body) nests arrays and objects more than `max` deep.
 * Iterative: a body a framework's parser accepted may be thousands deep, and JSON.stringify,
 * which recurses, overflows the stack at about 5,000 (10 KB of `[`).
 */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}
