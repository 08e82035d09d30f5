// The dashboard at size (issue 20): with 100,000 subscribers, 1,000 messages and
// 5,000,000 events in PostgreSQL (bench/insightData.mjs, the insight benchmark's data and
// loader), how long each page's data takes to answer through the dashboard's own handler
// (budget: p95 under 200 ms, DESIGN.md "Performance budgets"), and how long the overview
// takes to render in Chromium (budget: under 1 s). A benchmark, not a test: it records
// what it measured, with the machine's load, in bench/results/dashboard.md.
//
// It also times the call the Audience page made before for "count by user" (an attribute
// with one value per subscriber), `push.stats.subscribers({ by: 'user' })`, beside what
// the page asks now (counts without it: an identity attribute's counts are no chart).
//
// Run after `npm run build`, with PostgreSQL up:  node bench/dashboard.mjs
// Smaller: BENCH_INSIGHT_SUBSCRIBERS=10000 BENCH_INSIGHT_MESSAGES=100 BENCH_INSIGHT_EVENTS=500000 node bench/dashboard.mjs
import { execSync } from 'node:child_process';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { chromium } from 'playwright-core';
import { createPushServer, generateVapidKeys, toNodeHandler } from '../dist/server.js';
import { postgresStore } from '../dist/postgres.js';
import { createDashboard } from '../dist/dashboard.js';
import { summarize } from './stats.mjs';
import { insightSizes, loadPostgres, messageId } from './insightData.mjs';

const require = createRequire(import.meta.url);
const pg = require('pg');
const postgresUrl = process.env.TIDINGS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = Number(process.env.BENCH_DASHBOARD_RUNS ?? 40);
const RENDERS = Number(process.env.BENCH_DASHBOARD_RENDERS ?? 15);
const sizes = insightSizes();
const load = () => execSync('cat /proc/loadavg', { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');

async function timed(fn, runs = RUNS) {
  for (let i = 0; i < 3; i++) await fn(i);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

const schema = `tidings_bench_dashboard_${Date.now().toString(36)}`;
const store = postgresStore({ connectionString: postgresUrl, schema });
await store.countSubscriptions();
const client = new pg.Client({ connectionString: postgresUrl });
await client.connect();
const loadBefore = load();
const loaded = await loadPostgres(client, schema, sizes);
console.log(`loaded ${loaded.events} events in ${loaded.seconds.toFixed(0)} s`);

const vapid = { ...generateVapidKeys(), subject: 'mailto:bench@tidings.example' };
const push = createPushServer({ vapid, store });
const dashboard = createDashboard({ push, basePath: '/admin', authorize: () => 'bench', attributes: ['team'] });
const origin = 'http://127.0.0.1';
const get = async (path) => {
  const response = await dashboard.handler(new Request(`${origin}/admin${path}`));
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  // The body as a page reads it: the JSON text, all of it.
  return response.text();
};
const post = async (path, body) => {
  const response = await dashboard.handler(
    new Request(`${origin}/admin${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify(body) }),
  );
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.text();
};

const first = JSON.parse(await get('/api/messages'));
let deep = first.data;
for (let i = 0; i < 20 && deep.next; i++) deep = JSON.parse(await get(`/api/messages?after=${encodeURIComponent(deep.next)}`)).data;

// Each page's one request (the Audience page: its default, a chip, the search).
const routes = {
  'Overview, 30 days (api/overview)': () => get('/api/overview'),
  'Overview, 2 days by hour': () => get('/api/overview?range=2d'),
  'Overview, 7 days': () => get('/api/overview?range=7d'),
  'Overview, 90 days': () => get('/api/overview?range=90d'),
  'Messages, first page (api/messages)': () => get('/api/messages'),
  'Messages, 21st page': () => get(`/api/messages?after=${encodeURIComponent(deep.next ?? first.data.next)}`),
  'A message (api/messages/{id})': (i) => get(`/api/messages/${messageId((i * 7919) % sizes.messages)}`),
  'Audience (api/audience)': () => get('/api/audience'),
  "Audience by 'team' (100 values)": () => get('/api/audience?by=team'),
  "Audience by 'user', the identity attribute (not counted)": () => get('/api/audience?by=user'),
  "Audience, one person's subscriptions (key=user)": (i) => get(`/api/audience?key=user&value=u${(i * 131) % sizes.subscribers}`),
  'Compose (api/compose)': () => get('/api/compose'),
  'Compose, audience size (POST api/count, everyone)': () => post('/api/count', { to: null }),
  "Compose, audience size (POST api/count, team any of 3)": (i) => post('/api/count', { to: { attributes: { team: [`t${i % 100}`, 't1', 't2'] } } }),
};
const rows = [];
for (const [name, fn] of Object.entries(routes)) rows.push([name, await timed(fn)]);
// Before: the page counted by whatever attribute it was asked, the identity one too, as a
// dashboard whose identity attribute is another one still does.
const asBefore = createDashboard({ push, basePath: '/admin', authorize: () => 'bench', identityAttribute: 'visitor' });
const beforePage = await timed(async () => {
  const response = await asBefore.handler(new Request(`${origin}/admin/api/audience?by=user`));
  if (!JSON.parse(await response.text()).data.subscribers.byAttribute) throw new Error('not counted');
});
const before = await timed(() => push.stats.subscribers({ by: 'user' }));

// The overview in Chromium: from navigation start to its figures and its four charts drawn.
const server = createServer(toNodeHandler(dashboard.handler));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/admin/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
async function render(context) {
  const page = await context.newPage();
  await page.goto(url);
  // Done when the page's figures are on it and each chart has drawn its canvas.
  const at = await page.waitForFunction(
    () => {
      const charts = document.querySelectorAll('.chart canvas');
      const drawn = charts.length === 4 && [...charts].every((canvas) => canvas.width > 0);
      return drawn && document.querySelector('.big') && !document.body.textContent.includes('Loading') && performance.now();
    },
    undefined,
    { polling: 'raf', timeout: 30_000 },
  );
  const ms = await at.jsonValue();
  await page.close();
  return ms;
}
const cold = [];
const warm = [];
for (let i = 0; i < 2; i++) await render(await browser.newContext()).then(() => undefined);
for (let i = 0; i < RENDERS; i++) {
  // A new context: nothing cached, as a first visit.
  const context = await browser.newContext();
  cold.push(await render(context));
  // The same context again: the hashed assets come from its cache.
  warm.push(await render(context));
  await context.close();
}
await browser.close();
server.close();
const loadAfter = load();

await store.close();
await client.query(`DROP SCHEMA "${schema}" CASCADE`);
await client.end();

const f = (ms) => ms.toFixed(ms < 10 ? 2 : 1);
const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim() + (execSync("git status --porcelain -- . ':!node_modules'", { encoding: 'utf8' }).trim() ? ' (uncommitted changes)' : '');
  } catch {
    return 'unknown';
  }
})();
const coldRender = summarize(cold);
const warmRender = summarize(warm);
const lines = [
  '# The dashboard at size (bench/dashboard.mjs)',
  '',
  `${sizes.subscribers.toLocaleString('en')} subscribers, ${sizes.messages.toLocaleString('en')} messages, ${loaded.events.toLocaleString('en')} events in PostgreSQL, loaded by bench/insightData.mjs (the insight benchmark's data). Each page's data through the dashboard's own handler (dist/, authorize, JSON and all, no network), ${RUNS} times after 3 warm-ups; the overview in Chromium ${RENDERS} times cold (a new context) and warm (the same context: the hashed assets cached).`,
  '',
  `${new Date().toISOString()}, commit ${commit}, ${cpus().length} cores, Node ${process.version}.`,
  `Load average (1, 5, 15 min) before loading the data: ${loadBefore}; at the end: ${loadAfter} (other helpers run tests on this machine).`,
  '',
  '## Each page\'s data (budget: p95 < 200 ms)',
  '',
  '| request | median ms | p95 ms | within budget |',
  '|---|---:|---:|---|',
  ...rows.map(([name, s]) => `| ${name} | ${f(s.median)} | ${f(s.p95)} | ${s.p95 < 200 ? 'yes' : '**no**'} |`),
  '',
  '## The overview in Chromium (budget: < 1 s)',
  '',
  'From navigation start to the figures and the four charts drawn (`performance.now()` in the page).',
  '',
  '| visit | median ms | p95 ms | within budget |',
  '|---|---:|---:|---|',
  `| first (nothing cached) | ${f(coldRender.median)} | ${f(coldRender.p95)} | ${coldRender.p95 < 1000 ? 'yes' : '**no**'} |`,
  `| again (assets cached) | ${f(warmRender.median)} | ${f(warmRender.p95)} | ${warmRender.p95 < 1000 ? 'yes' : '**no**'} |`,
  '',
  "## Counting by an identity attribute: before and after",
  '',
  "`push.stats.subscribers({ by: 'user' })`, a value per subscriber, was bench/results/insight.md's one miss on PostgreSQL (109 ms p95 against 100 ms): every one of 100,000 values is grouped, to list the top 100, each counted once. The Audience page asked for it whenever the viewer counted by the identity attribute. It no longer does (the page says to find a person instead); the store's call is unchanged.",
  '',
  '| what | median ms | p95 ms |',
  '|---|---:|---:|',
  `| the store's call, \`push.stats.subscribers({ by: 'user' })\` (unchanged) | ${f(before.median)} | ${f(before.p95)} |`,
  `| before: the page's data, \`api/audience?by=user\`, counted | ${f(beforePage.median)} | ${f(beforePage.p95)} |`,
  `| after: the page's data, \`api/audience?by=user\` | ${f(rows.find(([n]) => n.startsWith("Audience by 'user'"))[1].median)} | ${f(rows.find(([n]) => n.startsWith("Audience by 'user'"))[1].p95)} |`,
  '',
];
const text = lines.join('\n');
if (!sizes.custom) writeFileSync(new URL('./results/dashboard.md', import.meta.url), `${text}\n`);
console.log(text);
