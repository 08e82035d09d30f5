// Audiences and registration on the real stores (issues 17 and 21): how long a count, a
// send's page and a bulk tag or removal take on 100,000 subscriptions, and what a
// registration costs now that the store decides it inside a transaction.
// Run after `npm run build`, with PostgreSQL up:  node bench/audience.mjs
// Smaller: BENCH_AUDIENCE_N=20000 node bench/audience.mjs. Writes bench/results/audience.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '../dist/server.js';
import { postgresStore } from '../dist/postgres.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const pg = require('pg');
const postgresUrl = process.env.TIDINGS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const n = Number(process.env.BENCH_AUDIENCE_N ?? 100_000);
const registrations = Number(process.env.BENCH_AUDIENCE_REGISTRATIONS ?? 2000);

// 100 teams (1% each), 10% vip, 5% muted: an any-of of two teams is 2% of the table.
const attributesOf = (i) => ({ user: `u${i}`, team: `t${i % 100}`, ...(i % 10 === 0 ? { vip: true } : {}), ...(i % 20 === 3 ? { muted: true } : {}) });
const idOf = (i) => `id${String(i).padStart(8, '0')}`;
const audiences = {
  'value (1%)': { attributes: { team: 't7' } },
  'any of two (2%)': { attributes: { team: ['t7', 't8'] } },
  'any of two, but not muted (1%)': { attributes: { team: ['t3', 't8'] }, not: { attributes: { muted: true } } },
  'or of a value and a presence': { any: [{ attributes: { team: 't7' } }, { attributes: { vip: { present: true } } }] },
  'present (10%)': { attributes: { vip: { present: true } } },
};

async function time(fn, runs = 5) {
  const times = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(runs / 2)], result };
}

async function measure(store) {
  const rows = [];
  for (const [name, audience] of Object.entries(audiences)) {
    const count = await time(() => store.countSubscriptions(audience));
    const page = await time(() => store.findSubscriptions({ ...audience, limit: 1000 }));
    const walk = await time(async () => {
      let seen = 0;
      for (let after; ; ) {
        const got = await store.findSubscriptions({ ...audience, limit: 1000, after });
        seen += got.length;
        if (got.length < 1000) return seen;
        after = got.at(-1).id;
      }
    }, 3);
    rows.push([name, count.result, count.ms, page.ms, walk.ms]);
  }
  const tag = await time(() => store.updateAttributes({ attributes: { team: ['t7', 't8'] } }, { plan: 'pro' }), 3);
  const removal = await time(() => store.deleteSubscriptions({ attributes: { team: 't9' } }), 1);
  return { rows, tag, removal };
}

async function register(store, label) {
  const keys = { p256dh: 'p', auth: 'a' };
  const decide = (existing) => {
    if (existing && existing.attributes.user !== 'same') throw new Error('owned');
    return { attributes: { user: 'same' }, identityKeys: ['user'] };
  };
  const start = performance.now();
  for (let i = 0; i < registrations; i++) {
    await store.saveSubscription({ subscription: { endpoint: `https://push.example.net/${label}/${i}`, expirationTime: null, keys } }, decide);
  }
  const sequential = (performance.now() - start) / registrations;
  // The race: every endpoint registered by two at once.
  const raceStart = performance.now();
  let conflicts = 0;
  for (let i = 0; i < registrations / 2; i++) {
    const endpoint = `https://push.example.net/${label}/race/${i}`;
    const racer = (user) =>
      store.saveSubscription({ subscription: { endpoint, expirationTime: null, keys } }, (existing) => {
        if (existing) throw new Error('owned');
        return { attributes: { user } };
      });
    const outcomes = await Promise.allSettled([racer('a'), racer('b')]);
    conflicts += outcomes.filter((outcome) => outcome.status === 'rejected').length;
  }
  const race = (performance.now() - raceStart) / registrations;
  return { sequential, race, conflicts };
}

const results = {};

// SQLite: rows written straight into the tables the store made.
{
  const dir = mkdtempSync(join(tmpdir(), 'tidings-bench-audience-'));
  const file = join(dir, 'bench.db');
  sqliteStore(file).close();
  const db = new Database(file);
  const addRow = db.prepare("INSERT INTO subscriptions (id, endpoint, p256dh, auth, attributes, created_at, updated_at) VALUES (?, ?, 'p', 'a', ?, 0, 0)");
  const addAttribute = db.prepare('INSERT INTO subscription_attributes (subscription_id, key, value) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const attributes = attributesOf(i);
      addRow.run(idOf(i), `https://push.example.net/${i}`, JSON.stringify(attributes));
      for (const [key, value] of Object.entries(attributes)) addAttribute.run(idOf(i), key, JSON.stringify(value));
    }
  })();
  db.close();
  const store = sqliteStore(file);
  results.sqlite = { ...(await measure(store)), registration: await register(store, 'r') };
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

// PostgreSQL: a fresh schema, rows inserted in one statement.
{
  const schema = `tidings_bench_${Date.now().toString(36)}`;
  const store = postgresStore({ connectionString: postgresUrl, schema });
  await store.countSubscriptions();
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  const ids = [];
  const attrs = [];
  for (let i = 0; i < n; i++) {
    ids.push(idOf(i));
    attrs.push(JSON.stringify(attributesOf(i)));
  }
  await client.query(
    `INSERT INTO "${schema}".subscriptions (id, endpoint, p256dh, auth, attributes, created_at, updated_at)
     SELECT id, 'https://push.example.net/' || id, 'p', 'a', a, 0, 0 FROM unnest($1::text[], $2::jsonb[]) AS t(id, a)`,
    [ids, attrs],
  );
  await client.query(`ANALYZE "${schema}".subscriptions`);
  results.postgres = { ...(await measure(store)), registration: await register(store, 'r') };
  await store.close();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
}

const f = (ms) => ms.toFixed(ms < 10 ? 2 : 0);
const lines = [
  `# Audiences and registration (bench/audience.mjs)`,
  '',
  `${n.toLocaleString('en')} subscriptions; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}; medians in ms.`,
  '',
];
for (const [name, r] of Object.entries(results)) {
  lines.push(`## ${name}`, '', '| audience | matches | count | first page (1000) | whole audience, paged |', '|---|---|---|---|---|');
  for (const [audience, matches, count, page, walk] of r.rows) lines.push(`| ${audience} | ${matches} | ${f(count)} | ${f(page)} | ${f(walk)} |`);
  lines.push(
    '',
    `- setAttributes on 2% (${(n / 50).toLocaleString('en')}): ${f(r.tag.ms)} ms; removeSubscriptions of 1%: ${f(r.removal.ms)} ms`,
    `- registration inside the store's transaction: ${f(r.registration.sequential)} ms each, one at a time; ${f(r.registration.race)} ms each with two racing per endpoint (${r.registration.conflicts} refused of ${registrations})`,
    '',
  );
}
const text = lines.join('\n');
writeFileSync(new URL('./results/audience.md', import.meta.url), text);
console.log(text);
