import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import { dashboardAssets } from './scripts/dashboardAssets.mjs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// Each half is compiled with its own tsconfig, so page code sees only `dom` and worker
// code only `webworker`. Type errors are reported by `npm run typecheck`; here they warn.
const ts = (tsconfig) =>
  typescript({
    tsconfig,
    declaration: false,
    declarationMap: false,
    emitDeclarationOnly: false,
    outDir: undefined,
    rootDir: undefined,
    noEmitOnError: false,
  });

// ESM builds leave dependencies (and the optional peers) to the user's bundler or Node;
// IIFEs carry idb inside.
const dependencies = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const external = (id) => dependencies.some((dep) => id === dep || id.startsWith(`${dep}/`));

// idb registers two sets of proxy traps when it is imported: the database shortcuts
// (`db.get('kv', key)`), which the worker uses, and async iteration over cursors
// (`store.iterate()`, `for await`), which tidings never uses but no bundler can shake off,
// as it is a call made at import. The worker IIFE leaves that call out (0.2 KB of its
// brotli; an ESM user's bundler gets idb whole). Its helpers are then unused and shaken
// off. Blanked with spaces, so no code moves and the source map stays true. Fails the
// build if idb no longer has that call, rather than shipping it unnoticed. Worker code
// must not iterate cursors (the e2e suites run the IIFE, and would show it).
const idbWithoutIterators = {
  name: 'idb-without-iterators',
  transform(code, id) {
    if (!/[\\/]node_modules[\\/]idb[\\/]build[\\/]index\.js$/.test(id)) return null;
    const calls = this.parse(code).body.filter(
      (node) =>
        node.type === 'ExpressionStatement' &&
        node.expression.callee?.name === 'replaceTraps' &&
        code.slice(node.start, node.end).includes('isIteratorProp'),
    );
    if (calls.length !== 1) this.error('idb no longer registers its cursor iterators as this plugin expects: check what it does');
    const [{ start, end }] = calls;
    return { code: code.slice(0, start) + code.slice(start, end).replace(/[^\n]/g, ' ') + code.slice(end), map: null };
  },
};

const terserOptions = { ecma: 2020, module: false, compress: { passes: 2 }, format: { comments: false } };
// The page's function expressions become arrows (14 B of its brotli; the worker's grow
// with it, so not there). Unsafe only for a function that is constructed with `new` or
// reads `this` or `arguments` (terser leaves the last two alone): after terser, the
// page's are internal helpers it inlined and calls plainly, and the one public export
// among them (showSoftPrompt) is async, which no one can construct either way.
const minifyPage = terser({ ...terserOptions, compress: { ...terserOptions.compress, unsafe_arrows: true } });
// The worker's own objects (the WorkerContext every stage shares, the notifier, outbox and
// seen-ids guard) have long property names that only its code reads: renamed to one
// letter (51 B of brotli). Only names listed here, each checked to be on no object that
// leaves the bundle: nothing stored in IndexedDB, posted to a page or the backend, given
// to a plugin or hook, read from the site's options, or part of idb or the platform
// (sealKey, backendId, options, sync and db are therefore not here). Strings are never
// touched, so the IndexedDB store names 'outbox' and 'seen' stay. A name added to these
// objects is not renamed until it is listed; test/unit/scripts/bundleSafety.test.ts fails
// if a listed name is declared by the wire protocol, the stored records or the public types.
export const workerInternalNames = /^(notifier|outbox|seen|hooks|handlers|clicked|settled|fail|flush|run|record|check|anyVisible)$/;
const minifyWorker = terser({ ...terserOptions, mangle: { properties: { regex: workerInternalNames } } });

// The IIFEs go without rollup's "use strict" (18 B of the page's brotli): checked safe,
// not assumed. The code is TypeScript modules, written strict; what sloppy mode changes
// for such code is absent from both bundles (scripts/iifeSloppySafe.mjs fails the
// build otherwise): no `with`, no `arguments`, no function declared inside a block (which
// sloppy mode would also hoist to its function), no `this` outside a class or a method.
// Classes are strict whatever the script. What is left is a write to a read-only property
// failing silently instead of throwing, which no tidings code relies on (it is a bug
// either way, and the browser suites run these bundles).

// The package's entries: `name` is the dist/ file stem, `cjs` whether `require` gets a
// build (and types) too. Source maps only for the minified IIFEs: the ESM and CJS files
// are unminified and read as they are, and their maps were two thirds of the tarball.
const entries = [
  { name: 'index', input: 'src/client/index.ts', tsconfig: 'src/client/tsconfig.json', types: 'client/index.d.ts', cjs: true },
  { name: 'worker', input: 'src/worker/index.ts', tsconfig: 'src/worker/tsconfig.json', types: 'worker/index.d.ts', cjs: false },
  { name: 'server', input: 'src/server/index.ts', tsconfig: 'tsconfig.build.json', types: 'server/index.d.ts', cjs: true },
  { name: 'testing', input: 'src/testing/index.ts', tsconfig: 'tsconfig.build.json', types: 'testing/index.d.ts', cjs: true },
  { name: 'postgres', input: 'src/postgres/index.ts', tsconfig: 'tsconfig.build.json', types: 'postgres/index.d.ts', cjs: true },
  { name: 'queue', input: 'src/queue/index.ts', tsconfig: 'tsconfig.build.json', types: 'queue/index.d.ts', cjs: true },
  // The dashboard's handler, with its pages (src/dashboard/ui, built by the plugin) inside as
  // text: no file to find at run time. build/dashboard/ gets them too, for the size report.
  {
    name: 'dashboard',
    input: 'src/dashboard/index.ts',
    tsconfig: 'tsconfig.build.json',
    types: 'dashboard/index.d.ts',
    cjs: true,
    plugins: [dashboardAssets({ writeTo: 'build/dashboard' })],
  },
];

const code = [
  ...entries.map(({ name, input, tsconfig, cjs, plugins = [] }) => ({
    input,
    external,
    plugins: [...plugins, ts(tsconfig)],
    output: [
      { file: `dist/${name}.js`, format: 'es' },
      ...(cjs ? [{ file: `dist/${name}.cjs`, format: 'cjs' }] : []),
    ],
  })),
  {
    // The CLI (bin/tidings.js runs it). Its imports of the library entries resolve to the
    // built dist/server.js, dist/queue.js… beside it, not to their sources: one copy of the
    // server code in the package, and the CLI's objects are the ones an app's code gets.
    // Its own modules are one file; the library stays a lazy import() per command.
    input: 'src/cli/main.ts',
    external,
    plugins: [
      {
        name: 'library-entries-as-dist',
        // 'absolute': the id is printed as given, so relative to dist/cli.js where it runs.
        resolveId: (id, importer) => {
          const entry = /^\.\.\/(server|testing|queue|postgres|dashboard)\/index\.js$/.exec(id)?.[1];
          return entry && importer?.includes('/src/cli/') ? { id: `./${entry}.js`, external: 'absolute' } : null;
        },
      },
      ts('tsconfig.build.json'),
    ],
    output: { file: 'dist/cli.js', format: 'es', inlineDynamicImports: true },
  },
  {
    input: 'src/client/iife.ts',
    plugins: [nodeResolve({ browser: true }), ts('src/client/tsconfig.json')],
    output: { file: 'dist/tidings.iife.js', format: 'iife', name: 'Tidings', strict: false, plugins: [minifyPage], sourcemap: true },
  },
  {
    // tidings/react: React and the page entry stay imports ('react', 'tidings'), so the hook
    // uses the app's own copy of both.
    input: 'src/react/index.ts',
    external: (id) => external(id) || /^react(\/|$)/.test(id),
    plugins: [
      { name: 'page-entry-as-tidings', resolveId: (id) => (/\/client\/index\.js$/.test(id) ? { id: 'tidings', external: true } : null) },
      ts('src/react/tsconfig.json'),
    ],
    output: { file: 'dist/react.js', format: 'es' },
  },
  {
    input: 'src/worker/index.ts',
    plugins: [idbWithoutIterators, nodeResolve({ browser: true }), ts('src/worker/tsconfig.json')],
    output: { file: 'dist/tidings-worker.iife.js', format: 'iife', name: 'TidingsWorker', strict: false, plugins: [minifyWorker], sourcemap: true },
  },
];

// One declaration file per entry, rolled up from tsc's output in build/types (see
// build:types): `.d.ts` for import, `.d.cts` for require, so a CommonJS TypeScript
// backend (`module: node16`) gets types that describe what `require` returns.
const typed = [...entries, { name: 'react', types: 'react/index.d.ts', cjs: false }];
const types = typed.map(({ name, types: from, cjs }) => ({
  input: `build/types/${from}`,
  external: (id) => external(id) || /^react(\/|$)/.test(id),
  plugins: [dts()],
  output: [
    { file: `dist/${name}.d.ts`, format: 'es' },
    ...(cjs ? [{ file: `dist/${name}.d.cts`, format: 'es' }] : []),
  ],
}));

// `rollup -c` builds the code; `rollup -c --configTypes` the declarations, after tsc.
export default (args) => (args.configTypes ? types : code);
