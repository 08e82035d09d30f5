// Insight at size (issue 19): each stats call on 100,000 subscribers, 1,000 messages and
// 5,000,000 events, on SQLite and PostgreSQL. Budget: p95 under 100 ms on PostgreSQL,
// under 250 ms on SQLite (DESIGN.md, "Performance budgets"). A benchmark, not a test: it
// records what it measured, with the machine's load, in bench/results/insight.md.
//
// The data is loaded straight into the tables the stores made, generated in SQL (or in
// one transaction of prepared statements on SQLite), not through the HTTP route: raw
// events, the once-per-(message, subscription, type) table, and the rollups as
// recordEvents would have left them. The calls then go through createPushStats over the
// real stores (dist/), as push.stats runs them.
//
// Run after `npm run build`, with PostgreSQL up:  node bench/insight.mjs
// Smaller: BENCH_INSIGHT_SUBSCRIBERS=10000 BENCH_INSIGHT_MESSAGES=100 BENCH_INSIGHT_EVENTS=500000 node bench/insight.mjs
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPushStats, sqliteStore } from '../dist/server.js';
import { postgresStore } from '../dist/postgres.js';
import { summarize } from './stats.mjs';
import { insightSizes, loadPostgres, loadSqlite, messageId, subscriptionId } from './insightData.mjs';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const pg = require('pg');
const postgresUrl = process.env.TIDINGS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const sizes = insightSizes();
const { subscribers: SUBSCRIBERS, messages: MESSAGES, events: EVENTS, now, perMessage } = sizes;
const RUNS = Number(process.env.BENCH_INSIGHT_RUNS ?? 40);
const only = process.env.BENCH_INSIGHT_STORES?.split(',');

const DAY = 86_400_000;

async function timed(fn) {
  for (let i = 0; i < 3; i++) await fn(i);
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

/** Every stats call the dashboard and the CLI make, and recordEvents at this size. */
async function measure(store) {
  const stats = createPushStats(store);
  const firstPage = await stats.messages({ limit: 25 });
  let deep = firstPage;
  for (let i = 0; i < 20 && deep.next; i++) deep = await stats.messages({ limit: 25, after: deep.next });
  const sample = (await stats.message(messageId(Math.floor(MESSAGES / 2))));
  const subscriptionForEvents = subscriptionId(7);
  let batch = 0;
  const calls = {
    'message(id)': (i) => stats.message(messageId((i * 7919) % MESSAGES)),
    'messages({ limit: 25 }), first page': () => stats.messages({ limit: 25 }),
    'messages({ limit: 25, after }), 21st page': () => stats.messages({ limit: 25, after: deep.next ?? firstPage.next }),
    "timeline({ bucket: 'hour' }), 2 days": () => stats.timeline({ since: now - 2 * DAY, until: now, bucket: 'hour' }),
    "timeline({ bucket: 'day' }), 30 days": () => stats.timeline({ since: now - 30 * DAY, until: now, bucket: 'day' }),
    "timeline({ bucket: 'day' }), 90 days": () => stats.timeline({ since: now - 90 * DAY, until: now, bucket: 'day' }),
    'subscribers()': () => stats.subscribers({}),
    "subscribers({ by: 'team' }) (100 values)": () => stats.subscribers({ by: 'team' }),
    "subscribers({ by: 'user' }) (a value each)": () => stats.subscribers({ by: 'user' }),
    "subscriptions({ to: { attributes: { user } } })": (i) => stats.subscriptions({ to: { attributes: { user: `u${(i * 131) % SUBSCRIBERS}` } }, limit: 50 }),
    'subscriptions({ limit: 50 }), all': () => stats.subscriptions({ limit: 50 }),
    'recordEvents: 20 verified events (write)': () => {
      const k = batch++;
      const events = Array.from({ length: 20 }, (_, j) => ({ id: `bench-${Date.now()}-${k}-${j}`, type: j % 2 ? 'shown' : 'delivered', messageId: messageId((k * 20 + j) % MESSAGES), at: Date.now() }));
      return store.recordEvents({ subscriptionId: subscriptionForEvents, countSince: now - 30 * DAY, events });
    },
  };
  const rows = [];
  for (const [name, fn] of Object.entries(calls)) rows.push([name, await timed(fn)]);
  return { rows, sample };
}

const results = {};
const loadTimes = {};

if (!only || only.includes('sqlite')) {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-bench-insight-'));
  const file = join(dir, 'bench.db');
  await sqliteStore(file).close();
  loadTimes.sqlite = await loadSqlite(Database, file, sizes);
  const store = sqliteStore(file);
  results.sqlite = await measure(store);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

if (!only || only.includes('postgres')) {
  const schema = `tidings_bench_insight_${Date.now().toString(36)}`;
  const store = postgresStore({ connectionString: postgresUrl, schema });
  await store.countSubscriptions();
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  loadTimes.postgres = await loadPostgres(client, schema, sizes);
  results.postgres = await measure(store);
  await store.close();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
}

const budgets = { sqlite: 250, postgres: 100 };
const f = (ms) => ms.toFixed(ms < 10 ? 2 : 1);
const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim() + (execSync('git status --porcelain', { encoding: 'utf8' }).trim() ? ' (uncommitted changes)' : '');
  } catch {
    return 'unknown';
  }
})();
const uptime = execSync('uptime', { encoding: 'utf8' }).trim();
const lines = [
  '# Insight at size (bench/insight.mjs)',
  '',
  `${SUBSCRIBERS.toLocaleString('en')} subscribers, ${MESSAGES.toLocaleString('en')} messages, ${EVENTS.toLocaleString('en')} events (each message's events from ${perMessage.toLocaleString('en')} subscribers: delivered, 95% shown, 30% clicked, 20% closed, 5% worker failures), loaded straight into the tables; then each call ${RUNS} times after 3 warm-ups, through createPushStats over the real store (dist/).`,
  '',
  `${new Date().toISOString()}, commit ${commit}, ${cpus().length} cores, Node ${process.version}.`,
  `Load while it ran (other helpers run tests on this machine): \`${uptime}\``,
  '',
];
for (const [name, r] of Object.entries(results)) {
  const budget = budgets[name];
  lines.push(
    `## ${name} (budget: p95 < ${budget} ms)`,
    '',
    `Loaded ${loadTimes[name].events.toLocaleString('en')} events in ${loadTimes[name].seconds.toFixed(0)} s.`,
    '',
    '| call | median ms | p95 ms | within budget |',
    '|---|---:|---:|---|',
  );
  for (const [call, s] of r.rows) lines.push(`| ${call} | ${f(s.median)} | ${f(s.p95)} | ${s.p95 < budget ? 'yes' : '**no**'} |`);
  lines.push('', `One message's funnel at this size: ${JSON.stringify({ targeted: r.sample.targeted, sent: r.sample.sent, delivered: r.sample.delivered, shown: r.sample.shown, clicked: r.sample.clicked, clickRate: r.sample.clickRate && Math.round(r.sample.clickRate * 1000) / 1000 })}`, '');
}
const text = lines.join('\n');
if (!process.env.BENCH_INSIGHT_SUBSCRIBERS && !process.env.BENCH_INSIGHT_EVENTS && !only) writeFileSync(new URL('./results/insight.md', import.meta.url), `${text}\n`);
console.log(text);
