// Packs tidings and installs the tarball into fresh projects, as a user's `npm install`
// would, and measures what arrives: packages, bytes, seconds. The package tests use the
// functions; run directly it prints the figures for a page-only and a server app:
//   node scripts/footprint.mjs   (after npm run build; the server app builds better-sqlite3)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The environment for a child npm: without the npm_* variables an enclosing `npm test`
 * sets (its prefix, its script), so the child acts on its own project only.
 */
export function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

/** Runs npm with `args` in `cwd`; returns its stdout. */
export function npm(args, cwd) {
  return execFileSync('npm', args, { cwd, env: cleanEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `npm pack` of this repository into `dir`; returns the tarball's path. */
export function packTarball(dir) {
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], root));
  return join(dir, packed.filename);
}

/** What `npm pack --dry-run --json` would put in the tarball: the paths, sorted. */
export function packedFiles() {
  const [packed] = JSON.parse(npm(['pack', '--dry-run', '--json'], root));
  return packed.files.map((file) => file.path).sort();
}

/**
 * Makes a fresh project in a temp dir and `npm install`s `specs` into it (the cache is
 * npm's own, so a package fetched once is not fetched again). Returns the project's path,
 * the seconds the install took and what arrived (see measure).
 */
export function installProject(name, specs, { ignoreScripts = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `tidings-${name}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }, null, 2));
  const args = ['install', ...specs, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
  if (ignoreScripts) args.push('--ignore-scripts');
  const started = performance.now();
  npm(args, dir);
  const seconds = (performance.now() - started) / 1000;
  return { dir, seconds, ...measure(join(dir, 'node_modules')) };
}

/**
 * The packages under a node_modules folder (nested ones too), the bytes of every file in
 * it, and the native addons (`.node` files) among them.
 */
export function measure(modules) {
  const packages = [];
  const native = [];
  let bytes = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) walk(path);
      else {
        bytes += statSync(path).size;
        if (entry.name.endsWith('.node')) native.push(path);
        // A package root: node_modules/<name>/package.json or node_modules/@scope/<name>/package.json.
        if (entry.name === 'package.json' && /node_modules[\\/](@[^\\/]+[\\/])?[^\\/@]+$/.test(dir)) {
          packages.push(JSON.parse(readFileSync(path, 'utf8')).name);
        }
      }
    }
  };
  walk(modules);
  return { packages: packages.sort(), bytes, native };
}

function report(label, result) {
  const mb = (result.bytes / 1e6).toFixed(1);
  return `${label}: ${result.packages.length} packages, ${mb} MB, ${result.seconds.toFixed(1)} s, native addons: ${result.native.length}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const tarball = packTarball(mkdtempSync(join(tmpdir(), 'tidings-pack-')));
  console.log(`tarball: ${tarball} (${(statSync(tarball).size / 1e3).toFixed(0)} kB)`);
  console.log(report('page-only app (tidings)', installProject('page-app', [tarball])));
  console.log(report('server app (tidings better-sqlite3@12 web-push@3)', installProject('server-app', [tarball, 'better-sqlite3@12', 'web-push@3'])));
}
