import { existsSync, readFileSync, statSync } from 'node:fs';
import { UsageError } from './UsageError.js';

/** One line of a .env file as [key, value], as dotenv reads it: leading spaces and `export ` allowed. */
export function envEntry(line: string): [string, string] | undefined {
  const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
  return match ? [match[1]!, match[2]!.replace(/^(['"])(.*)\1$/, '$2')] : undefined;
}

/** The variables of an existing .env file (`--env FILE`). */
export function readEnvFile(file: string): Record<string, string> {
  if (!existsSync(file)) throw new UsageError(`--env file ${file} does not exist`);
  if (!statSync(file).isFile()) throw new UsageError(`--env ${file} is not a regular file`);
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const entry = envEntry(line);
    if (entry) out[entry[0]] = entry[1];
  }
  return out;
}
