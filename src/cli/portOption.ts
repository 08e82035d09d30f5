import { UsageError } from './UsageError.js';

/** A `--port`-like flag: undefined when not given, else a whole number from 0 to 65535. */
export function portOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`${name} must be a number from 0 to 65535`);
  return port;
}
