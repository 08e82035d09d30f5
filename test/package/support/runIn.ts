import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes `source` as `file` in an installed project and runs it with node there, so
 * `tidings` resolves exactly as it would in a user's app. Returns what it printed as JSON.
 */
export function runIn<T>(dir: string, file: string, source: string): T {
  writeFileSync(join(dir, file), source);
  const out = execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(out) as T;
}
