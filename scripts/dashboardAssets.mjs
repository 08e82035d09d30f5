// The dashboard's pages, built at package build time: src/dashboard/ui (Preact, uPlot) to
// one minified script and one stylesheet, hashed, and handed to src/dashboard as the module
// 'tidings:dashboard-assets' (their bodies as text). So the handler reads no file, runs in
// any Fetch runtime, and serves exactly what was built with it. rollup.config.mjs uses the
// plugin for dist/dashboard.js; vitest.config.ts for the tests that import the handler.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const ASSETS_ID = 'tidings:dashboard-assets';

/** Comments out, whitespace folded: our CSS and uPlot's, which are plain. */
export function minifyCss(css) {
  return css
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};:,>])\s*/g, '$1')
    .replace(/;}/g, '}')
    .trim();
}

/** Builds the script and style of the pages; resolves to their text. */
export async function buildDashboardUi() {
  const [{ rollup }, { nodeResolve }, { default: typescript }, { default: terser }] = await Promise.all([
    import('rollup'),
    import('@rollup/plugin-node-resolve'),
    import('@rollup/plugin-typescript'),
    import('@rollup/plugin-terser'),
  ]);
  const bundle = await rollup({
    input: `${root}src/dashboard/ui/main.tsx`,
    plugins: [
      nodeResolve({ browser: true }),
      typescript({
        tsconfig: `${root}src/dashboard/ui/tsconfig.json`,
        declaration: false,
        declarationMap: false,
        noEmitOnError: false,
        // Type errors are `npm run typecheck`'s to report; here the code is only compiled.
        noCheck: true,
        outDir: undefined,
        rootDir: undefined,
      }),
    ],
  });
  const { output } = await bundle.generate({
    format: 'es',
    plugins: [terser({ ecma: 2020, module: true, compress: { passes: 2 }, format: { comments: false } })],
  });
  await bundle.close();
  const css = ['node_modules/uplot/dist/uPlot.min.css', 'src/dashboard/ui/dashboard.css'].map((file) => readFileSync(`${root}${file}`, 'utf8')).join('\n');
  const icon = readFileSync(`${root}src/dashboard/ui/icon.svg`, 'utf8').trim();
  return { js: output[0].code, css: minifyCss(css), icon };
}

const hash = (text) => createHash('sha256').update(text).digest('base64url').slice(0, 12);

/**
 * The plugin: resolves 'tidings:dashboard-assets' to the built pages. With `writeTo`, also
 * writes them unhashed there (build/dashboard/) for scripts/size-report.mjs to measure.
 */
export function dashboardAssets({ writeTo } = {}) {
  let built;
  return {
    name: 'tidings-dashboard-assets',
    resolveId: (id) => (id === ASSETS_ID ? `\0${ASSETS_ID}` : null),
    async load(id) {
      if (id !== `\0${ASSETS_ID}`) return null;
      const { js, css, icon: svg } = await (built ??= buildDashboardUi());
      if (writeTo) {
        mkdirSync(writeTo, { recursive: true });
        writeFileSync(`${writeTo}/dashboard.js`, js);
        writeFileSync(`${writeTo}/dashboard.css`, css);
      }
      const script = `dashboard.${hash(js)}.js`;
      const style = `dashboard.${hash(css)}.css`;
      const icon = `icon.${hash(svg)}.svg`;
      const assets = [
        { name: script, type: 'text/javascript; charset=utf-8', body: js },
        { name: style, type: 'text/css; charset=utf-8', body: css },
        { name: icon, type: 'image/svg+xml', body: svg },
      ];
      return [
        `export const script = ${JSON.stringify(script)};`,
        `export const style = ${JSON.stringify(style)};`,
        `export const icon = ${JSON.stringify(icon)};`,
        `export const assets = ${JSON.stringify(assets)};`,
        '',
      ].join('\n');
    },
  };
}
