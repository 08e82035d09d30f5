// Global setup of the package tests: packs the built package once and installs the
// tarball into two fresh projects, as users would, for every test file to inspect.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { installProject, packTarball, type InstalledProject as Installed } from '../../../scripts/footprint.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    tarball: string;
    /** `npm install <tarball>`: a site that uses only the page and worker halves. */
    pageApp: Installed;
    /** `npm install <tarball> better-sqlite3@12 web-push@3 ws@8 --ignore-scripts`. */
    serverApp: Installed;
  }
}

export default function setup(project: TestProject): () => void {
  if (!existsSync('dist/server.js')) throw new Error('dist/ is missing: run npm run build before the package tests');
  const packDir = mkdtempSync(join(tmpdir(), 'tidings-pack-'));
  const tarball = packTarball(packDir);
  const pageApp = installProject('page-app', [tarball]);
  // --ignore-scripts: better-sqlite3's JavaScript arrives but its native addon is never
  // built, the case whose error used to be "cannot open x.db". It also keeps this fast.
  const serverApp = installProject('server-app', [tarball, 'better-sqlite3@12', 'web-push@3', 'ws@8'], { ignoreScripts: true });
  project.provide('tarball', tarball);
  project.provide('pageApp', pageApp);
  project.provide('serverApp', serverApp);
  return () => {
    for (const dir of [packDir, pageApp.dir, serverApp.dir]) rmSync(dir, { recursive: true, force: true });
  };
}
