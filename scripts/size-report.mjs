// Prints min, gzip and brotli sizes of the drop-in bundles, and fails the build when a
// bundle passes its budget (DESIGN.md, "Performance budgets") or contains code that a
// strict CSP would refuse.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

export const budgets = [
  { file: 'dist/tidings.iife.js', brotli: 3 * 1024 },
  { file: 'dist/tidings-worker.iife.js', brotli: 5 * 1024 },
];

/** Sizes of one file: minified bytes as built, gzip -9 and brotli 11. */
export function measure(source) {
  const bytes = Buffer.from(source);
  return {
    min: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

// Matches `eval(` and `new Function(` as code, the two things `script-src` without
// 'unsafe-eval' refuses.
const evalLike = /(^|[^.\w$])eval\s*\(|new\s+Function\s*\(/;

// Run, it reports; imported (bench/size.mjs reuses `measure` and `budgets`), it only
// exports, so a bundle over budget does not end the importing process before it reports.
if (process.argv[1] === fileURLToPath(import.meta.url)) report();

function report() {
  const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
  let failed = false;
  console.log('\nbundle                          min        gzip       brotli     budget (brotli)');
  for (const { file, brotli: budget } of budgets) {
    const source = readFileSync(file, 'utf8');
    const size = measure(source);
    const over = size.brotli > budget;
    if (over) failed = true;
    console.log(
      `${file.padEnd(31)} ${kb(size.min).padEnd(10)} ${kb(size.gzip).padEnd(10)} ${kb(size.brotli).padEnd(10)} ${kb(budget)}${over ? '  OVER BUDGET' : ''}`,
    );
    if (evalLike.test(source)) {
      failed = true;
      console.log(`${file}: contains eval or new Function, which a strict CSP refuses`);
    }
  }
  if (failed) {
    console.error('\nsize-report: a bundle is over budget or not CSP-safe');
    process.exit(1);
  }
}
