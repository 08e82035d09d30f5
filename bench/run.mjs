// `npm run bench`: every benchmark of issue 7 in one run, against baselines measured in
// the same run, written to bench/results/latest.json and latest.md. Counts can be lowered
// while developing (BENCH_PUSHES=20 BENCH_BURST=50 BENCH_COLD=5 node bench/run.mjs); the
// figures worth committing come from the defaults on a quiet machine.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { measureSizes } from './size.mjs';
import { openSession } from './chromium.mjs';
import { coldStart, envelope, fcmMessage, pushToNotification } from './latency.mjs';
import { sealedCost } from './sealed.mjs';
import { burst } from './burst.mjs';
import { fanout } from './fanout-runner.mjs';
import { budgetChecks, markdown } from './report.mjs';

const counts = {
  pushes: Number(process.env.BENCH_PUSHES ?? 200),
  burst: Number(process.env.BENCH_BURST ?? 500),
  cold: Number(process.env.BENCH_COLD ?? 40),
};
// BENCH_PARTS=size,cold (any of size, push, sealed, cold, burst, fanout) runs only those and
// prints them, writing no results: for measuring one thing while developing.
const parts = process.env.BENCH_PARTS?.split(',');
const wanted = (part) => !parts || parts.includes(part);
const started = Date.now();
const git = (...args) => execFileSync('git', args, { cwd: resolve(import.meta.dirname, '..'), encoding: 'utf8' }).trim();

/** Runs one benchmark; a failure is recorded in the results rather than ending the run. */
async function step(name, fn, part) {
  if (part && !wanted(part)) return { pending: 'not run (BENCH_PARTS)' };
  const t = Date.now();
  process.stdout.write(`bench: ${name}...`);
  try {
    const result = await fn();
    console.log(` ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return result;
  } catch (error) {
    console.log(` failed: ${error.message}`);
    return { error: String(error.stack ?? error) };
  }
}

const results = {
  date: new Date().toISOString(),
  commit: git('rev-parse', 'HEAD') + (git('status', '--porcelain', '--', 'src', 'bench', 'scripts', 'rollup.config.mjs') ? ' (uncommitted changes)' : ''),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, chromium: null },
  counts,
};

results.size = await step('size', measureSizes, 'size');

const session = await openSession();
results.machine.chromium = session.chromiumVersion;
try {
  const workers = {
    tidings: await session.install('tidings', '/sw-tidings.js?backend=/api/tidings'),
    floor: await session.install('floor', '/sw-floor.js'),
    firebase: await session.install('firebase', '/sw-firebase.js'),
    // Bursts get workers of their own, whose probe reports once a burst is over.
    tidingsBurst: await session.install('tidings-burst', '/sw-tidings.js?backend=/api/burst&batch'),
    tidingsBurstTag: await session.install('tidings-burst-tag', '/sw-tidings.js?backend=/api/burst-tag&batch'),
    floorBurst: await session.install('floor-burst', '/sw-floor.js?batch'),
  };
  await session.leave();
  const contenders = [
    { name: 'tidings', scope: workers.tidings, payload: (id) => envelope(id) },
    { name: 'floor', scope: workers.floor, payload: (id) => envelope(id) },
    { name: 'firebase', scope: workers.firebase, payload: (id) => fcmMessage(id) },
  ];
  results.push = await step(`push -> notification (${counts.pushes} each)`, () => pushToNotification(session, contenders, counts.pushes), 'push');
  results.sealed = await step(`sealed (${counts.pushes} each)`, () => sealedCost(session, workers.tidings, counts.pushes), 'sealed');
  results.coldStart = await step(`cold start (${counts.cold} each)`, () => coldStart(session, contenders, counts.cold), 'cold');
  results.burst = await step(`burst (${counts.burst})`, () => burst(session, workers, counts.burst), 'burst');
} finally {
  await session.close();
}

results.fanout = await step('server fan-out', () => fanout(), 'fanout');
results.seconds = Math.round((Date.now() - started) / 1000);
results.budgets = budgetChecks(results);

const table = markdown(results);
if (!parts) {
  const dir = resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(resolve(dir, 'latest.md'), table);
}
console.log(`\n${table}`);

// The same limits and the same measure as the build's size report: a bundle over its CI
// limit fails here exactly as it fails the build (and CI). A missed budget is reported.
if (results.size.some?.((row) => row.withinLimit === false)) {
  console.error('bench: a bundle is over its CI size limit');
  process.exitCode = 1;
}
