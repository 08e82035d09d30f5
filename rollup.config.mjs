import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

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

// ESM builds leave dependencies to the user's bundler; IIFEs carry idb inside.
const dependencies = [...Object.keys(pkg.dependencies ?? {}), ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const external = (id) => dependencies.some((dep) => id === dep || id.startsWith(`${dep}/`));

const minify = terser({ ecma: 2020, module: false, compress: { passes: 2 }, format: { comments: false } });

export default [
  {
    input: 'src/client/index.ts',
    external,
    plugins: [ts('src/client/tsconfig.json')],
    output: [
      { file: 'dist/index.js', format: 'es', sourcemap: true },
      { file: 'dist/index.cjs', format: 'cjs', sourcemap: true },
    ],
  },
  {
    input: 'src/client/iife.ts',
    plugins: [nodeResolve({ browser: true }), ts('src/client/tsconfig.json')],
    output: { file: 'dist/tidings.iife.js', format: 'iife', name: 'Tidings', plugins: [minify], sourcemap: true },
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
    output: { file: 'dist/react.js', format: 'es', sourcemap: true },
  },
  {
    input: 'src/worker/index.ts',
    external,
    plugins: [ts('src/worker/tsconfig.json')],
    output: { file: 'dist/worker.js', format: 'es', sourcemap: true },
  },
  {
    input: 'src/worker/index.ts',
    plugins: [nodeResolve({ browser: true }), ts('src/worker/tsconfig.json')],
    output: { file: 'dist/tidings-worker.iife.js', format: 'iife', name: 'TidingsWorker', plugins: [minify], sourcemap: true },
  },
  {
    input: 'src/server/index.ts',
    external,
    plugins: [ts('tsconfig.build.json')],
    output: [
      { file: 'dist/server.js', format: 'es', sourcemap: true },
      { file: 'dist/server.cjs', format: 'cjs', sourcemap: true },
    ],
  },
  {
    input: 'src/testing/index.ts',
    external,
    plugins: [ts('tsconfig.build.json')],
    output: { file: 'dist/testing.js', format: 'es', sourcemap: true },
  },
];
