import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packedFiles } from '../../scripts/footprint.mjs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const files = packedFiles();

/** Every path package.json points at: main, module, types, exports, typesVersions, bin. */
function declaredPaths(): string[] {
  const paths: string[] = [pkg.main, pkg.module, pkg.types, ...Object.values<string>(pkg.bin)];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') paths.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(pkg.exports);
  walk(pkg.typesVersions);
  return [...new Set(paths.map((path) => normalize(path)))].sort();
}

// What may ship besides the files package.json points at. Anything else (a source map of
// a readable build, a stray declaration, a test, a data folder) fails the test.
const alsoAllowed = [
  /^(README\.md|LICENSE|package\.json)$/,
  /^dist\/tidings(-worker)?\.iife\.js(\.map)?$/,
  // The CLI, built from src/cli: bin/tidings.js (declared in `bin`) only imports it.
  /^dist\/cli\.js$/,
  /^demo\/startDemo\.mjs$/,
  /^demo\/public\/[\w.-]+$/,
  /^docs\/[\w-]+\.md$/,
];

describe('the tarball (npm pack --dry-run)', () => {
  it('holds every file package.json points at', () => {
    expect(declaredPaths().filter((path) => !files.includes(path))).toEqual([]);
  });

  it('holds nothing else but the IIFEs and their maps, the demo, the docs, the README and LICENSE', () => {
    const declared = new Set(declaredPaths());
    expect(files.filter((file) => !declared.has(file) && !alsoAllowed.some((pattern) => pattern.test(file)))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'dist/tidings.iife.js.map', 'dist/tidings-worker.iife.js.map', 'docs/server.md']));
  });

  it("ships the dashboard's pages inside dist/dashboard.js and .cjs, not as loose files", () => {
    expect(files).toEqual(expect.arrayContaining(['dist/dashboard.js', 'dist/dashboard.cjs', 'dist/dashboard.d.ts', 'dist/dashboard.d.cts']));
    expect(files.filter((file) => /dashboard/.test(file) && !/^dist\/dashboard\.(js|cjs|d\.ts|d\.cts)$|^docs\/dashboard\.md$/.test(file))).toEqual([]);
    for (const file of ['dist/dashboard.js', 'dist/dashboard.cjs']) expect(readFileSync(file, 'utf8')).toMatch(/dashboard\.[\w-]{12}\.js/);
  });

  it('ships source maps only for the minified IIFEs, and no iife declarations', () => {
    expect(files.filter((file) => file.endsWith('.map'))).toEqual(['dist/tidings-worker.iife.js.map', 'dist/tidings.iife.js.map']);
    expect(files.filter((file) => /iife\.d\.c?ts$/.test(file))).toEqual([]);
  });

  it('carries the MIT licence it declares, and where the project lives', () => {
    expect(pkg.license).toBe('MIT');
    const license = readFileSync('LICENSE', 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the tidings authors\n/);
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/[\w-]+\/tidings\.git$/);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs.url).toMatch(/^https:\/\//);
  });

  it('has no dead relative link in the markdown it ships', () => {
    const dead: string[] = [];
    let checked = 0;
    for (const file of files.filter((path) => path.endsWith('.md'))) {
      const text = readFileSync(file, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^([a-z]+:|#)/i.test(target)) continue;
        const path = normalize(join(dirname(file), target.split('#')[0] ?? ''));
        checked++;
        if (!files.includes(path)) dead.push(`${file}: ${target}`);
      }
    }
    expect(dead).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it("points users at nothing the package lacks: the testing guide names none of the repository's test files", () => {
    // The package ships no tests: what a user needs for theirs is in tidings/testing.
    expect(readFileSync('docs/testing.md', 'utf8').match(/\btest\/[\w./-]+/g) ?? []).toEqual([]);
  });

  it('lists every optional peer as an optional peer, pinned to the major its install hint names', () => {
    const peers = Object.keys(pkg.peerDependencies).sort();
    expect(peers).toEqual(Object.keys(pkg.peerDependenciesMeta).sort());
    for (const name of peers) expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
    expect(Object.keys(pkg.dependencies)).toEqual(['idb']);
    // Every requireOptional('name', 'major') in the sources names a peer of that major.
    const sources = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts')).map((file) => join('src', file));
    const calls = sources.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/requireOptional<[^>]*>\('([^']+)', '(\d+)'\)/g)]);
    expect(calls.length).toBeGreaterThanOrEqual(4);
    for (const [, name, major] of calls) expect(pkg.peerDependencies[name!], name).toMatch(new RegExp(`^\\^${major}\\.`));
  });
});
