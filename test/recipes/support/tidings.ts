import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository: the `tidings` package the recipes install. */
export const repoRoot = resolve(import.meta.dirname, '../../..');

/**
 * Installs the built package as `node_modules/tidings` of a recipe app, fresh each run:
 * its package.json and dist/, the files an `npm install tidings` brings for the page and
 * the worker. `tidings` and `tidings/worker` then resolve through the package's own
 * `exports` map to what ships, and Vite treats the package as an installed dependency
 * (pre-bundled in dev), not as linked source. Its own dependencies (idb) resolve from
 * the repository's node_modules above. Needs `npm run build` first.
 */
export function installTidings(appDir: string): void {
  if (!existsSync(join(repoRoot, 'dist/worker.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const target = join(appDir, 'node_modules/tidings');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(join(repoRoot, 'package.json'), join(target, 'package.json'));
  cpSync(join(repoRoot, 'dist'), join(target, 'dist'), { recursive: true });
}

/**
 * `tidings/server` and `tidings/testing` as built (dist/), typed by their sources. Loaded
 * at run time so type-checking does not need a build first.
 */
export async function importBuilt(): Promise<{
  server: typeof import('../../../src/server/index.js');
  testing: typeof import('../../../src/testing/index.js');
}> {
  const load = (file: string) => import(pathToFileURL(join(repoRoot, 'dist', file)).href);
  return { server: await load('server.js'), testing: await load('testing.js') };
}
