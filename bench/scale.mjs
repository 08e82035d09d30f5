// Sending at scale (issues 11 and 22), against baselines measured in the same run:
//   floor    the RFC 8291 encryption alone (web-push's encrypt()), CPU per message
//   send     send() of tidings/server to a push service that only counts (bench/count-sink.mjs,
//            another process), CPU per message of the sending process: budget 1.2 x the floor,
//            over HTTP/1.1 (plain http) and HTTP/2 (the sink over TLS, ALPN h2)
//   senders  a queued send over PostgreSQL + Redis, one sender process against two
//            (bench/scale-sender.mjs), over both protocols: budgets 1.2 x the floor per
//            message, >= 4,000 a second per sender, two >= 1.7 x one
//   memory   one sender's peak RSS for 10,000 and 100,000 subscribers: budget within 20%
//   kill     two senders, one SIGKILLed a third of the way: reached, duplicates, recovery
// Run after `npm run build`, with PostgreSQL and Redis up (TIDINGS_TEST_POSTGRES_URL,
// TIDINGS_TEST_REDIS_URL, or the local defaults):  node bench/scale.mjs
// Smaller while developing: BENCH_SCALE_SEND=1000 BENCH_SCALE_SMALL=2000 BENCH_SCALE_BIG=5000
// BENCH_SCALE_PARTS=floor,send BENCH_SCALE_PROTOCOLS=http2 node bench/scale.mjs. Writes
// bench/results/scale.{json,md} (the .md keeps its sections from the first "## " on). BENCH_SCALE_PROF=dir
// writes a CPU profile of every sender.
// BENCH_SCALE_METRICS=1 runs send() with its Prometheus metrics on (createPushServer({ metrics: true }),
// scraped once after), to see what counting costs a send (bench/results/metrics.md).
// BENCH_SCALE_BASELINE=dir (a dist/ built from another commit; BENCH_SCALE_BASELINE_LABEL names
// it) runs send() and one queued sender on that build too, taking turns with this one, so a
// change is measured before and after in the same run, under the same load.
import { execFileSync, spawn } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const self = fileURLToPath(import.meta.url);
const here = import.meta.dirname;
const postgresUrl = process.env.TIDINGS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.TIDINGS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sizes = {
  floor: Number(process.env.BENCH_SCALE_FLOOR ?? 3000),
  // As many as a queued sender's round takes, after a warm-up: JIT and heap growth then
  // weigh on both alike (5,000 measured straight after start cost send() 2.5 x against 1.55 x).
  send: Number(process.env.BENCH_SCALE_SEND ?? 20_000),
  senders: Number(process.env.BENCH_SCALE_SENDERS ?? 30_000),
  small: Number(process.env.BENCH_SCALE_SMALL ?? 10_000),
  big: Number(process.env.BENCH_SCALE_BIG ?? 100_000),
};
const parts = (process.env.BENCH_SCALE_PARTS ?? 'floor,send,senders,memory,kill').split(',');
const protocols = (process.env.BENCH_SCALE_PROTOCOLS ?? 'http1,http2').split(',').map((name) => (name === 'http2' ? 'HTTP/2' : 'HTTP/1.1'));
const baseline = process.env.BENCH_SCALE_BASELINE ? resolve(process.env.BENCH_SCALE_BASELINE) : undefined;
const baselineLabel = process.env.BENCH_SCALE_BASELINE_LABEL ?? 'baseline';
const envelope = { v: 1, id: 'bench-scale-0000000000', notification: { title: 'Scale', body: 'x'.repeat(120), url: '/articles/42' } };

if (process.argv[2] === '--send-child') await sendChild(process.argv[3], Number(process.argv[4]));
else if (process.argv[2] === '--report') writeReport(report(JSON.parse(readFileSync(resolve(here, 'results/scale.json'), 'utf8'))));
else await main();

async function main() {
  const { generateVapidKeys } = await import('../dist/server.js');
  const vapid = { ...generateVapidKeys(), subject: 'mailto:bench@tidings.example' };
  // One sink per protocol: plain http speaks HTTP/1.1; the TLS one offers h2 (and http/1.1).
  const caFile = resolve(tmpdir(), `tidings-bench-ca-${process.pid}.pem`);
  const sinks = {};
  for (const protocol of protocols) {
    const args = protocol === 'HTTP/2' ? [resolve(here, 'count-sink.mjs'), '--tls', caFile] : [resolve(here, 'count-sink.mjs')];
    const sink = await startChild(args, {}, (line) => line.startsWith('http'));
    sinks[protocol] = { child: sink.child, url: sink.firstLine };
  }
  const ca = protocols.includes('HTTP/2') ? readFileSync(caFile, 'utf8') : undefined;
  // What a sender needs to push to each sink: the CA of the TLS one; HTTP/2 on or off.
  const delivery = (protocol) => JSON.stringify(protocol === 'HTTP/2' ? { ca, http2: true } : {});
  // The machine is shared: its load before and after says how far to trust the timings.
  const results = { date: new Date().toISOString(), commit: commit(), cores: cpus().length, node: process.versions.node, sizes, protocols, loadBefore: loadavg() };
  if (process.env.BENCH_SCALE_METRICS === '1') results.metrics = true;
  const cleanups = [];
  try {
    if (parts.includes('floor')) {
      results.floor = await encryptFloor(sizes.floor);
    }
    if (parts.includes('send')) {
      results.send = {};
      for (const protocol of protocols) {
        // With a baseline, each build twice, taking turns; the lower CPU of each is reported.
        const runs = { this: [], baseline: [] };
        for (const which of baseline ? ['this', 'baseline', 'this', 'baseline'] : ['this']) {
          await sinkRequest(`${sinks[protocol].url}/reset`, 'POST', ca);
          // The floor again just before: the machine's speed moves within a run.
          const { cpuMicrosPerMessage: floorMicros } = await encryptFloor(1000);
          const run = await runSendChild(sinks[protocol].url, sizes.send, vapid, delivery(protocol), which === 'baseline' ? baseline : undefined);
          run.floorMicros = floorMicros;
          // Which protocol the pushes really went over, as the sink saw them.
          run.overHttp2 = (await sinkRequest(`${sinks[protocol].url}/stats`, 'GET', ca)).http2;
          runs[which].push(run);
        }
        results.send[protocol] = { ...medianRun(runs.this) };
        if (baseline) {
          results.send[protocol].runs = runs.this;
          (results.sendBaseline ??= { label: baselineLabel })[protocol] = { ...medianRun(runs.baseline), runs: runs.baseline };
        }
      }
      // The floor again after, so load that changed during the run shows.
      if (results.floor) results.floorAfter = await encryptFloor(sizes.floor);
    }
    const needQueue = ['senders', 'memory', 'kill'].some((part) => parts.includes(part));
    if (needQueue) {
      const { makeSchema, dropAll } = await schemas();
      cleanups.push(dropAll);
      const first = protocols[0];
      const small = await makeSchema(sinks[first].url, sizes.small);
      const context = (protocol, dist) => ({
        sink: sinks[protocol].url,
        ca,
        vapid,
        env: { BENCH_VAPID: JSON.stringify(vapid), BENCH_DELIVERY: delivery(protocol), ...(dist && { BENCH_SCALE_DIST: dist }) },
      });
      if (parts.includes('senders')) {
        results.senders = {};
        for (const protocol of protocols) {
          // Large enough that a send lasts seconds, so starting and finishing cost little of it.
          const audience = sizes.senders === sizes.small && protocol === first ? small : await makeSchema(sinks[protocol].url, sizes.senders);
          const rounds = [];
          // Alternating, so load that comes and goes falls on both alike.
          // With a baseline, a round of one sender on it after each pair.
          const order = baseline ? [1, 2, 'b', 1, 2, 'b', 1, 2, 'b'] : [1, 2, 1, 2, 1, 2];
          for (const count of order) {
            const { cpuMicrosPerMessage: floorMicros } = await encryptFloor(1000);
            if (count === 'b') rounds.push({ senders: 1, baseline: baselineLabel, floorMicros, ...(await queuedSend(context(protocol, baseline), audience, 1)) });
            else rounds.push({ senders: count, floorMicros, ...(await queuedSend(context(protocol), audience, count)) });
          }
          const median = (count) => medianOf(rounds.filter((r) => r.senders === count && !r.baseline).map((r) => r.ms));
          results.senders[protocol] = { subscribers: sizes.senders, rounds, oneMs: median(1), twoMs: median(2), speedup: median(1) / median(2) };
        }
      }
      if (parts.includes('memory')) {
        const big = await makeSchema(sinks[first].url, sizes.big);
        const a = await queuedSend(context(first), small, 1);
        const b = await queuedSend(context(first), big, 1);
        results.memory = { protocol: first, small: { subscribers: sizes.small, ...a }, big: { subscribers: sizes.big, ...b }, ratio: b.peakRss[0] / a.peakRss[0] };
      }
      if (parts.includes('kill')) results.kill = { protocol: first, ...(await queuedSend(context(first), small, 2, { killAt: 1 / 3 })) };
    }
    results.loadAfter = loadavg();
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error) => console.error('cleanup:', error.message));
    for (const sink of Object.values(sinks)) sink.child.kill('SIGTERM');
  }
  // The report adds what it derives (each protocol's two-sender ceiling) before the JSON is written.
  const table = report(results);
  writeFileSync(resolve(here, 'results/scale.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeReport(table);
  process.stdout.write(table);
}

/**
 * Writes the run's table over the last one, keeping the sections written by hand below it
 * (from the first `## ` heading on): what earlier runs found stays beside the new figures.
 */
function writeReport(table) {
  const file = resolve(here, 'results/scale.md');
  let notes = '';
  try {
    const old = readFileSync(file, 'utf8');
    const at = old.search(/^## /m);
    if (at >= 0) notes = `\n${old.slice(at)}`;
  } catch {
    // No report yet: only the table.
  }
  writeFileSync(file, table + notes);
}

/** GET or POST to a sink, trusting the TLS one's CA (fetch cannot be given one). */
function sinkRequest(url, method = 'GET', ca) {
  return new Promise((resolveAnswer, reject) => {
    const client = url.startsWith('https:') ? httpsRequest : httpRequest;
    const request = client(url, { method, ca }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolveAnswer(body ? JSON.parse(body) : undefined));
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * CPU per RFC 8291 encryption (a fresh ECDH key pair, HKDF, AES-GCM) as web-push does it:
 * the floor. Beside it, in turns of 250 so that load falls on both alike, tidings' own
 * encryption (src/server/crypto/aes128gcm.ts, which send() uses), for what it costs alone.
 */
async function encryptFloor(count) {
  const webpush = requireWebPush();
  const { p256dh, auth } = browserKeys();
  const payload = JSON.stringify(envelope);
  const { encryptAes128gcm } = await tidingsEncryption();
  const key = Buffer.from(p256dh, 'base64url');
  const secret = Buffer.from(auth, 'base64url');
  const bytes = Buffer.from(payload);
  const contenders = {
    floor: () => webpush.encrypt(p256dh, auth, payload, 'aes128gcm'),
    tidings: () => encryptAes128gcm(bytes, key, secret),
  };
  const used = { floor: 0, tidings: 0 };
  for (const run of Object.values(contenders)) for (let i = 0; i < 200; i++) run();
  for (let done = 0; done < count; done += 250) {
    for (const [name, run] of Object.entries(contenders)) {
      const before = process.cpuUsage();
      for (let i = 0; i < 250; i++) run();
      const { user, system } = process.cpuUsage(before);
      used[name] += user + system;
    }
  }
  const messages = Math.ceil(count / 250) * 250;
  return { messages, cpuMicrosPerMessage: used.floor / messages, tidingsCpuMicrosPerMessage: used.tidings / messages };
}

/** src/server/crypto/aes128gcm.ts, which dist/ does not export: compiled here with TypeScript. */
async function tidingsEncryption() {
  const ts = (await import('typescript')).default;
  const source = readFileSync(resolve(here, '../src/server/crypto/aes128gcm.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  return import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
}

function requireWebPush() {
  // web-push is CommonJS: load it as Node code would.
  return createRequire(import.meta.url)('web-push');
}

function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

/** send() to `count` subscribers of the sink, in a child process: its CPU per message. */
async function runSendChild(sinkUrl, count, vapid, delivery, dist) {
  const env = { BENCH_VAPID: JSON.stringify(vapid), BENCH_DELIVERY: delivery, ...(dist && { BENCH_SCALE_DIST: dist }) };
  const child = await startChild([self, '--send-child', sinkUrl, String(count)], env, (line) => line.startsWith('{'));
  await new Promise((done) => child.child.once('exit', done));
  // The window is for bench/profile-send.mjs.
  const { window: _window, ...out } = JSON.parse(child.firstLine);
  return out;
}

/** One of the builds' entries: dist/ here, or BENCH_SCALE_DIST (a baseline's) in a child. */
function distEntry(name) {
  return pathToFileURL(resolve(process.env.BENCH_SCALE_DIST ?? resolve(here, '../dist'), name)).href;
}

function medianRun(runs) {
  const sorted = [...runs].sort((a, b) => a.cpuMicrosPerMessage - b.cpuMicrosPerMessage);
  return sorted[(sorted.length - 1) >> 1];
}

async function sendChild(sinkUrl, count) {
  const { createPushServer, memoryStore } = await import(distEntry('server.js'));
  const vapid = JSON.parse(process.env.BENCH_VAPID);
  const store = memoryStore();
  const keys = browserKeys();
  for (let i = 0; i < count; i++) {
    await store.saveSubscription({ subscription: { endpoint: `${sinkUrl}/push/send-${i}`, expirationTime: null, keys } });
  }
  const metrics = process.env.BENCH_SCALE_METRICS === '1';
  const server = createPushServer({ vapid, store, allowLoopbackEndpoints: true, ...(metrics && { metrics: true }), ...JSON.parse(process.env.BENCH_DELIVERY ?? '{}') });
  // Warm up: connections, JIT, the VAPID token.
  for (let round = 0; round < 5; round++) await server.send(envelope, { to: (await store.findSubscriptions({ limit: 200 })).map((entry) => entry.id) });
  const before = process.cpuUsage();
  const started = performance.now();
  // The measured window on the monotonic clock a --cpu-prof profile's timestamps use (µs).
  const from = process.hrtime.bigint() / 1000n;
  const result = await server.send(envelope);
  const to = process.hrtime.bigint() / 1000n;
  const ms = performance.now() - started;
  const used = process.cpuUsage(before);
  if (result.sent !== count) throw new Error(`send() sent ${result.sent} of ${count}: ${JSON.stringify(result.errors[0])}`);
  const out = { messages: count, ms, messagesPerSecond: (count / ms) * 1000, cpuMicrosPerMessage: (used.user + used.system) / count, window: [Number(from), Number(to)] };
  if (metrics) {
    // What the counters say after the warm-up and the measured send, and what one scrape costs.
    const scraped = performance.now();
    const text = await server.metrics.metrics();
    out.metrics = { scrapeMs: performance.now() - scraped, sent: [...text.matchAll(/^tidings_pushes_total\{[^}]*outcome="sent"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0) };
  }
  console.log(JSON.stringify(out));
}

/** CPU a message of the senders' batches after their first four, as they reported it (undefined if none did). */
function warmMicros(stats) {
  const warm = stats.map((s) => s.warm).filter(Boolean);
  const messages = warm.reduce((sum, w) => sum + w.messages, 0);
  return messages > 0 ? warm.reduce((sum, w) => sum + w.cpuMicros, 0) / messages : undefined;
}

/** Schemas of `count` subscribers pointing at a sink, made in SQL (fast), dropped at the end. */
async function schemas() {
  const { default: pg } = await import('pg');
  const { postgresStore } = await import('../dist/postgres.js');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
  // A dropped idle connection would end the bench; say so and go on (postgresStore warns without it).
  pool.on('error', (error) => console.error(`bench: PostgreSQL pool: ${error.message}`));
  const made = [];
  const keys = browserKeys();
  return {
    async makeSchema(sinkUrl, count) {
      const schema = `tidings_bench_${Date.now().toString(36)}_${made.length}`;
      made.push(schema);
      const store = postgresStore({ pool, schema });
      await store.findSubscriptions({ limit: 1 });
      await store.close();
      await pool.query(
        `INSERT INTO "${schema}".subscriptions (id, endpoint, p256dh, auth, attributes, created_at, updated_at)
         SELECT md5($1 || g::text), $2 || '/push/' || $1 || '-' || g::text, $3, $4, '{}', 0, 0 FROM generate_series(1, $5::int) g`,
        [schema, sinkUrl, keys.p256dh, keys.auth, count],
      );
      await pool.query(`ANALYZE "${schema}".subscriptions`);
      return { schema, count };
    },
    async dropAll() {
      for (const schema of made) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

/**
 * One queued send to the subscribers of `target` with `senders` sender processes: the time
 * from queuing to done, each sender's peak RSS and CPU, and what the sink counted. With
 * `killAt`, the first sender is SIGKILLed once that share has been sent.
 */
async function queuedSend({ sink: sinkUrl, ca, vapid, env }, target, senders, { killAt } = {}) {
  const { createSendQueue } = await import('../dist/queue.js');
  const { postgresStore } = await import('../dist/postgres.js');
  const name = `tidings-bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await sinkRequest(`${sinkUrl}/reset`, 'POST', ca);
  const sinkBefore = (await sinkRequest(`${sinkUrl}/stats`, 'GET', ca)).cpuMicros;
  const redisBefore = await redisCpuMicros();
  const children = [];
  for (let i = 0; i < senders; i++) {
    children.push(await startChild([resolve(here, 'scale-sender.mjs'), redisUrl, postgresUrl, target.schema, name], env, (line) => line === 'ready'));
  }
  const store = postgresStore({ connectionString: postgresUrl, schema: target.schema });
  const queue = createSendQueue({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true, ...JSON.parse(env.BENCH_DELIVERY) });
  const started = performance.now();
  const { id } = await queue.send({ ...envelope, id: `${name}-m` });
  let killed;
  let final;
  for (;;) {
    final = await queue.status(id);
    if (killAt && !killed && final.sent >= target.count * killAt) {
      children[0].child.kill('SIGKILL');
      killed = { at: performance.now(), sent: final.sent };
    }
    if (final.state === 'done' || final.state === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ms = performance.now() - started;
  const sink = await sinkRequest(`${sinkUrl}/stats`, 'GET', ca);
  const redisCpu = (await redisCpuMicros()) - redisBefore;
  const stats = [];
  for (const { child, lines } of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exit = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exit;
    stats.push(JSON.parse(lines.at(-1)));
  }
  await queue.close();
  await store.close();
  await cleanQueue(name);
  const out = {
    ms,
    messagesPerSecond: (target.count / ms) * 1000,
    status: final,
    reached: sink.distinct,
    duplicates: sink.duplicates,
    overHttp2: sink.http2,
    peakRss: stats.map((s) => s.peakRss),
    idleRss: stats.map((s) => s.idleRss),
    cpuMicrosPerMessage: stats.reduce((sum, s) => sum + s.cpuMicros, 0) / target.count,
    // The same without each sender's start (about 250 ms of CPU, once in a sender's life).
    cpuMicrosPerMessageSinceReady: stats.reduce((sum, s) => sum + s.cpuMicrosSinceReady, 0) / target.count,
    // Warm: from each sender's 4th batch to its last (JIT, connections and the VAPID token
    // behind it), as send() is measured after its warm-up.
    cpuMicrosPerMessageWarm: warmMicros(stats),
    // What the rest of the pipeline on this machine spent per message: the push service
    // stand-in and Redis (PostgreSQL's share is small: a page read per 500).
    sinkCpuMicrosPerMessage: (sink.cpuMicros - sinkBefore) / target.count,
    redisCpuMicrosPerMessage: redisCpu / target.count,
  };
  // From the kill to the send being done: the dead sender's lock running out, then the rest.
  if (killed) Object.assign(out, { killedAtSent: killed.sent, recoveryMs: started + ms - killed.at });
  return out;
}

/** Redis's own CPU time so far (INFO cpu), in µs. */
async function redisCpuMicros() {
  const { Queue } = await import('bullmq');
  const queue = new Queue('tidings-bench-info', { connection: { url: redisUrl } });
  const client = await queue.client;
  const info = await client.info('cpu');
  // Only a connection was wanted: leave no queue behind.
  await client.del('bull:tidings-bench-info:meta');
  await queue.close();
  const field = (name) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

async function cleanQueue(name) {
  const { Queue } = await import('bullmq');
  const queue = new Queue(name, { connection: { url: redisUrl } });
  await queue.obliterate({ force: true });
  const client = await queue.client;
  for (const key of await client.keys(`tidings:${name}:*`)) await client.del(key);
  await queue.close();
}

/** Starts `node args`, resolving once a stdout line passes `ready`; keeps every line. */
function startChild(args, env, ready) {
  return new Promise((resolveStart, reject) => {
    // BENCH_SCALE_PROF=dir: a CPU profile of every sending child (send() and each sender) in dir.
    const prof = process.env.BENCH_SCALE_PROF && !args[0].endsWith('count-sink.mjs') ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SCALE_PROF}`] : [];
    const child = spawn(process.execPath, [...prof, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const handle = { child, lines: [], firstLine: undefined };
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop();
      for (const line of parts) {
        handle.lines.push(line);
        if (handle.firstLine === undefined && ready(line)) {
          handle.firstLine = line;
          resolveStart(handle);
        }
      }
    });
    child.once('exit', (code) => handle.firstLine === undefined && reject(new Error(`${args[0]} exited ${code} before it was ready`)));
  });
}

function medianOf(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
}

function commit() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: resolve(here, '..'), encoding: 'utf8' }).trim();
    // Untracked files (a worktree's node_modules link) are not changes to what is measured.
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? ' (uncommitted changes)' : '');
  } catch {
    return 'unknown';
  }
}

function report(r) {
  const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const load = (l) => (l ? l.map((x) => x.toFixed(1)).join(' ') : '?');
  const verdict = (ok) => (ok ? 'met' : 'missed');
  const lines = [
    `# Sending at scale (bench/scale.mjs)`,
    '',
    `${r.date}, commit ${r.commit}, ${r.cores} cores, Node ${r.node}; load average ${load(r.loadBefore)} before, ${load(r.loadAfter)} after (a shared machine)${r.metrics ? '; send() with its metrics on' : ''}.`,
    '',
    "The floor is web-push's `encrypt()`; `send()` and the senders use tidings' own RFC 8291 encryption (node:crypto, the RFC's test vector pinned), whose cost alone is the second row. Other sessions share the two cores, so absolute figures move with their load: the ratios within one run are what count" +
      (r.sendBaseline ? `, and the rows marked "before" ran ${r.sendBaseline.label} in turns with this build, under the same load.` : '.'),
    '',
  ];
  lines.push('| figure | measured | budget | verdict |', '|---|---|---|---|');
  const floors = [r.floor, r.floorAfter].filter(Boolean).map((f) => f.cpuMicrosPerMessage);
  const floor = floors.length ? medianOf(floors) : undefined;
  if (r.floor) {
    lines.push(`| RFC 8291 encryption alone (web-push's encrypt(), the floor), CPU per message | ${floors.map((f) => `${f.toFixed(0)} µs`).join(' / ')} (before / after) | | |`);
    const own = [r.floor, r.floorAfter].filter((f) => f?.tidingsCpuMicrosPerMessage !== undefined).map((f) => f.tidingsCpuMicrosPerMessage);
    if (own.length > 0) {
      lines.push(`| tidings' own RFC 8291 encryption alone (what send() uses), in turns with the floor | ${own.map((f) => `${f.toFixed(0)} µs`).join(' / ')} = ${own.map((f, i) => (f / floors[i]).toFixed(2)).join(' / ')} x floor | | |`);
    }
  }
  // Each run against the floor measured just before it (when the run has one), as a median
  // over the runs; else against the run's floor.
  const nearRatio = (runs) => {
    const near = runs.filter((x) => x.floorMicros !== undefined);
    return near.length > 0 ? medianOf(near.map((x) => x.cpuMicrosPerMessage / x.floorMicros)) : undefined;
  };
  const asRatio = (near, cpu) => (near === undefined ? `${(cpu / floor).toFixed(2)} x floor` : `${near.toFixed(2)} x the floor measured just before each run (${(cpu / floor).toFixed(2)} x the run's floor)`);
  for (const [protocol, s] of Object.entries(r.send ?? {})) {
    const near = nearRatio(s.runs ?? [s]);
    const ratio = near ?? (floor ? s.cpuMicrosPerMessage / floor : NaN);
    const over = s.overHttp2 === undefined ? '' : `, ${s.overHttp2 > 0 ? 'HTTP/2' : 'HTTP/1.1'} at the sink`;
    lines.push(
      `| send() over ${protocol}, ${s.messages} subscribers, CPU per message | ${s.cpuMicrosPerMessage.toFixed(0)} µs = ${asRatio(near, s.cpuMicrosPerMessage)}${over} | <= 1.2 x | ${verdict(ratio <= 1.2)} |`,
      `| send() over ${protocol}, messages a second | ${Math.round(s.messagesPerSecond)} | >= 4,000 | ${verdict(s.messagesPerSecond >= 4000)} |`,
    );
    const b = r.sendBaseline?.[protocol];
    if (b) {
      lines.push(
        `| send() over ${protocol} at ${r.sendBaseline.label} (before), taking turns with this build | ${b.cpuMicrosPerMessage.toFixed(0)} µs = ${asRatio(nearRatio(b.runs ?? [b]), b.cpuMicrosPerMessage)}, ${Math.round(b.messagesPerSecond)} a second; this build ${(100 * (1 - s.cpuMicrosPerMessage / b.cpuMicrosPerMessage)).toFixed(0)}% less CPU a message | | |`,
      );
    }
  }
  for (const [protocol, q] of Object.entries(r.senders ?? {})) {
    // The same per-core figure for a queued sender: its CPU over the whole send, Redis and all.
    const one = q.rounds.filter((x) => x.senders === 1 && !x.baseline);
    const per = (key) => medianOf(one.map((x) => x[key]));
    const cpu = per('cpuMicrosPerMessage');
    const near = nearRatio(one);
    const ratio = near ?? (floor ? cpu / floor : NaN);
    // Two cores shared by the senders, the sink and Redis: two senders can at best use both
    // cores for everything, one sender at best one core for itself.
    q.ceiling = (2 * cpu) / (cpu + per('sinkCpuMicrosPerMessage') + per('redisCpuMicrosPerMessage'));
    const rate = (q.subscribers / q.oneMs) * 1000;
    // Warm, as send() is measured: after the sender's first four batches (JIT, connections).
    const warm = one.every((x) => x.cpuMicrosPerMessageWarm !== undefined) ? `; warm, after its first 4 batches as send() after its warm-up: ${per('cpuMicrosPerMessageWarm').toFixed(0)} µs = ${(per('cpuMicrosPerMessageWarm') / floor).toFixed(2)} x` : '';
    lines.push(
      `| queued sender over ${protocol} (tidings sender), ${q.subscribers} subscribers, CPU per message (the whole process; from ready, without its start) | ${cpu.toFixed(0)} µs = ${asRatio(near, cpu)}${one[0]?.cpuMicrosPerMessageSinceReady === undefined ? '' : ` (from ready: ${per('cpuMicrosPerMessageSinceReady').toFixed(0)} µs = ${(per('cpuMicrosPerMessageSinceReady') / floor).toFixed(2)} x${warm})`} | <= 1.2 x | ${verdict(ratio <= 1.2)} |`,
      `| one queued sender over ${protocol}, messages a second | ${Math.round(rate)} | >= 4,000 | ${verdict(rate >= 4000)} |`,
      `| queued send over ${protocol}, ${q.subscribers} subscribers: one sender vs two | ${(q.oneMs / 1000).toFixed(1)} s vs ${(q.twoMs / 1000).toFixed(1)} s = ${q.speedup.toFixed(2)} x | >= 1.7 x | ${verdict(q.speedup >= 1.7)} (this machine's ceiling: ${q.ceiling.toFixed(2)} x) |`,
    );
    const before = q.rounds.filter((x) => x.baseline);
    if (before.length > 0) {
      const cpuBefore = medianOf(before.map((x) => x.cpuMicrosPerMessage));
      const rateBefore = medianOf(before.map((x) => x.messagesPerSecond));
      lines.push(
        `| one queued sender over ${protocol} at ${before[0].baseline} (before), rounds taking turns with this build | ${cpuBefore.toFixed(0)} µs = ${asRatio(nearRatio(before), cpuBefore)}, ${Math.round(rateBefore)} a second; this build ${(100 * (1 - cpu / cpuBefore)).toFixed(0)}% less CPU a message | | |`,
      );
    }
  }
  if (r.memory) {
    const m = r.memory;
    lines.push(
      `| sender peak RSS, ${m.small.subscribers} vs ${m.big.subscribers} subscribers (PostgreSQL, ${m.protocol ?? 'HTTP/1.1'}) | ${mb(m.small.peakRss[0])} vs ${mb(m.big.peakRss[0])} = ${m.ratio.toFixed(2)} x | within 20% | ${verdict(Math.abs(m.ratio - 1) <= 0.2)} |`,
    );
  }
  if (r.kill) {
    const k = r.kill;
    lines.push(
      `| kill test, ${k.status.total} subscribers, 2 senders, one SIGKILLed at ${k.killedAtSent} sent | reached ${k.reached}, duplicates ${k.duplicates}, recovered in ${(k.recoveryMs / 1000).toFixed(1)} s (lock 3 s), counts ${k.status.sent}/${k.status.gone}/${k.status.failed} | all reached, duplicates <= 500 | ${verdict(k.reached === k.status.total && k.duplicates <= 500)} |`,
    );
  }
  lines.push('', '```json', JSON.stringify(r, null, 2), '```', '');
  return `${lines.join('\n')}\n`;
}
