import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './UsageError.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** The values parseArgs gives for `spec` (named, so declarations can be emitted for it). */
export type OptionValues<T extends OptionSpec> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: false; strict: true }>>['values'];

/** The flags of one command, strictly: an unknown flag or a positional is a UsageError. */
export function options<const T extends OptionSpec>(args: string[], spec: T): OptionValues<T> {
  try {
    return parseArgs({ args, options: spec, allowPositionals: false, strict: true }).values;
  } catch (error) {
    // parseArgs explains at length; the first line is the reason.
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}
