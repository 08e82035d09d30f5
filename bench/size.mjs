// Size: the bytes a site ships with tidings and with its peers, every one bundled the same
// way (rollup, node-resolve for the browser, terser) and measured with the build's own
// `measure`, so the bench and the build's budget check cannot disagree.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { budgets, measure } from '../scripts/size-report.mjs';

const repo = resolve(import.meta.dirname, '..');
const entries = resolve(import.meta.dirname, 'entries');
export const cacheDir = resolve(import.meta.dirname, '.cache');

// The contenders, page and worker. `entry` files are bundled; `file`s are measured as built.
export const contenders = [
  { name: 'tidings IIFE', side: 'page', file: 'dist/tidings.iife.js' },
  { name: 'tidings ESM (createPushClient)', side: 'page', entry: 'tidings-client.js' },
  { name: 'Firebase Messaging 12', side: 'page', entry: 'firebase-window.js' },
  { name: 'Pusher Beams 2', side: 'page', entry: 'pusher-page.js' },
  { name: 'floor', side: 'page', entry: 'floor-page.js' },
  { name: 'tidings IIFE', side: 'worker', file: 'dist/tidings-worker.iife.js' },
  { name: 'tidings ESM (createPushWorker)', side: 'worker', entry: 'tidings-worker.js' },
  { name: 'Firebase Messaging 12', side: 'worker', entry: 'firebase-worker.js', format: 'iife', keep: 'firebase-worker.iife.js' },
  {
    name: 'Firebase compat pair (importScripts)',
    side: 'worker',
    file: ['node_modules/firebase/firebase-app-compat.js', 'node_modules/firebase/firebase-messaging-compat.js'],
  },
  { name: 'Pusher Beams 2', side: 'worker', entry: 'pusher-worker.js', format: 'iife' },
  // An entry module is always kept; imported, the floor would be shaken away under the
  // package's `sideEffects: false`.
  { name: 'floor', side: 'worker', entry: '../floor/sw.js', format: 'iife' },
];

/**
 * Bundles one entry the way a bundler user would: ES output keeps the entry's exports (so
 * nothing the user imports is shaken away), IIFE output is for classic worker scripts.
 */
async function bundle(entry, format = 'es') {
  const build = await rollup({
    input: resolve(entries, entry),
    plugins: [nodeResolve({ browser: true })],
    onwarn: () => {},
  });
  try {
    const { output } = await build.generate({
      format,
      plugins: [terser({ ecma: 2020, module: format === 'es', compress: { passes: 2 }, format: { comments: false } })],
    });
    return output[0].code;
  } finally {
    await build.close();
  }
}

/** Sizes of every contender; an entry that cannot be built yet (an export not landed) is reported as pending. */
export async function measureSizes() {
  mkdirSync(cacheDir, { recursive: true });
  const rows = [];
  for (const contender of contenders) {
    const row = { name: contender.name, side: contender.side };
    try {
      let code;
      if (contender.file) {
        const files = [contender.file].flat();
        const missing = files.find((file) => !existsSync(resolve(repo, file)));
        if (missing) throw new Error(`${missing} is missing`);
        code = files.map((file) => readFileSync(resolve(repo, file), 'utf8')).join('\n');
      } else {
        code = await bundle(contender.entry, contender.format);
      }
      if (contender.keep) writeFileSync(resolve(cacheDir, contender.keep), code);
      Object.assign(row, measure(code));
      const budget = budgets.find((b) => b.file === contender.file);
      if (budget) {
        Object.assign(row, { budget: budget.brotli, withinBudget: row.brotli <= budget.brotli, withinLimit: row.brotli <= budget.limit });
      }
    } catch (error) {
      row.pending = error.code === 'MISSING_EXPORT' ? error.message : String(error.message ?? error).split('\n')[0];
    }
    rows.push(row);
  }
  return rows;
}
