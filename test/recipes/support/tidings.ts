import { existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository: the `tidings` package the recipes install. */
export const repoRoot = resolve(import.meta.dirname, '../../..');

/**
 * Installs this repository as `node_modules/tidings` of a recipe app, as `npm install`
 * of a local folder does (a symlink): `tidings`, `tidings/worker` and `tidings/server`
 * then resolve through the package's own `exports` map to the built `dist/` files, so
 * the recipes bundle exactly what ships. Needs `npm run build` first.
 */
export function installTidings(appDir: string): void {
  if (!existsSync(join(repoRoot, 'dist/worker.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const link = join(appDir, 'node_modules/tidings');
  if (lstatSync(link, { throwIfNoEntry: false })) return;
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(relative(dirname(link), repoRoot), link, 'dir');
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
