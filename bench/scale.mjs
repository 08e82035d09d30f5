// Sending at scale (issue 11), against baselines measured in the same run:
//   floor    the RFC 8291 encryption alone (web-push's encrypt()), CPU per message
//   send     send() of tidings/server to a push service that only counts (bench/count-sink.mjs,
//            another process), CPU per message of the sending process: budget 1.5 x the floor
//   senders  a queued send over PostgreSQL + Redis, one sender process against two
//            (bench/scale-sender.mjs): budget >= 1.6 x
//   memory   one sender's peak RSS for 10,000 and 100,000 subscribers: budget within 20%
//   kill     two senders, one SIGKILLed a third of the way: reached, duplicates, recovery
// Run after `npm run build`, with PostgreSQL and Redis up (TIDINGS_TEST_POSTGRES_URL,
// TIDINGS_TEST_REDIS_URL, or the local defaults):  node bench/scale.mjs
// Smaller while developing: BENCH_SCALE_SEND=1000 BENCH_SCALE_SMALL=2000 BENCH_SCALE_BIG=5000
// BENCH_SCALE_PARTS=floor,send node bench/scale.mjs. Writes bench/results/scale.{json,md}.
import { execFileSync, spawn } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const here = import.meta.dirname;
const postgresUrl = process.env.TIDINGS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.TIDINGS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sizes = {
  floor: Number(process.env.BENCH_SCALE_FLOOR ?? 3000),
  send: Number(process.env.BENCH_SCALE_SEND ?? 5000),
  senders: Number(process.env.BENCH_SCALE_SENDERS ?? 30_000),
  small: Number(process.env.BENCH_SCALE_SMALL ?? 10_000),
  big: Number(process.env.BENCH_SCALE_BIG ?? 100_000),
};
const parts = (process.env.BENCH_SCALE_PARTS ?? 'floor,send,senders,memory,kill').split(',');
const envelope = { v: 1, id: 'bench-scale-0000000000', notification: { title: 'Scale', body: 'x'.repeat(120), url: '/articles/42' } };

if (process.argv[2] === '--send-child') await sendChild(process.argv[3], Number(process.argv[4]));
else if (process.argv[2] === '--report') writeFileSync(resolve(here, 'results/scale.md'), report(JSON.parse(readFileSync(resolve(here, 'results/scale.json'), 'utf8'))));
else await main();

async function main() {
  const { generateVapidKeys } = await import('../dist/server.js');
  const vapid = { ...generateVapidKeys(), subject: 'mailto:bench@tidings.example' };
  const sink = await startChild([resolve(here, 'count-sink.mjs')], {}, (line) => line.startsWith('http'));
  const sinkUrl = sink.firstLine;
  // The machine is shared: its load before and after says how far to trust the timings.
  const results = { date: new Date().toISOString(), commit: commit(), cores: cpus().length, node: process.versions.node, sizes, loadBefore: loadavg() };
  const cleanups = [];
  try {
    if (parts.includes('floor')) results.floor = encryptFloor(sizes.floor);
    if (parts.includes('send')) {
      results.send = await runSendChild(sinkUrl, sizes.send, vapid);
      // The floor again after, so load that changed during the run shows.
      if (results.floor) results.floorAfter = encryptFloor(sizes.floor);
    }
    const needQueue = ['senders', 'memory', 'kill'].some((part) => parts.includes(part));
    if (needQueue) {
      const { makeSchema, dropAll } = await schemas(sinkUrl);
      cleanups.push(dropAll);
      const small = await makeSchema(sizes.small);
      const env = { BENCH_VAPID: JSON.stringify(vapid) };
      const ctx = { sinkUrl, vapid, env };
      if (parts.includes('senders')) {
        // Large enough that a send lasts seconds, so starting and finishing cost little of it.
        const audience = sizes.senders === sizes.small ? small : await makeSchema(sizes.senders);
        const rounds = [];
        // Alternating, so load that comes and goes falls on both alike.
        for (const count of [1, 2, 1, 2, 1, 2]) rounds.push({ senders: count, ...(await queuedSend(ctx, audience, count)) });
        const median = (count) => medianOf(rounds.filter((r) => r.senders === count).map((r) => r.ms));
        results.senders = { subscribers: sizes.senders, rounds, oneMs: median(1), twoMs: median(2), speedup: median(1) / median(2) };
      }
      if (parts.includes('memory')) {
        const big = await makeSchema(sizes.big);
        const a = await queuedSend(ctx, small, 1);
        const b = await queuedSend(ctx, big, 1);
        results.memory = { small: { subscribers: sizes.small, ...a }, big: { subscribers: sizes.big, ...b }, ratio: b.peakRss[0] / a.peakRss[0] };
      }
      if (parts.includes('kill')) results.kill = await queuedSend(ctx, small, 2, { killAt: 1 / 3 });
    }
    results.loadAfter = loadavg();
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error) => console.error('cleanup:', error.message));
    sink.child.kill('SIGTERM');
  }
  writeFileSync(resolve(here, 'results/scale.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(resolve(here, 'results/scale.md'), report(results));
  process.stdout.write(report(results));
}

/** CPU per RFC 8291 encryption (a fresh ECDH key pair, HKDF, AES-GCM), as web-push does it. */
function encryptFloor(count) {
  const webpush = requireWebPush();
  const { p256dh, auth } = browserKeys();
  const payload = JSON.stringify(envelope);
  for (let i = 0; i < 200; i++) webpush.encrypt(p256dh, auth, payload, 'aes128gcm');
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) webpush.encrypt(p256dh, auth, payload, 'aes128gcm');
  const used = process.cpuUsage(before);
  return { messages: count, cpuMicrosPerMessage: (used.user + used.system) / count };
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
async function runSendChild(sinkUrl, count, vapid) {
  const child = await startChild([self, '--send-child', sinkUrl, String(count)], { BENCH_VAPID: JSON.stringify(vapid) }, (line) => line.startsWith('{'));
  await new Promise((done) => child.child.once('exit', done));
  return JSON.parse(child.firstLine);
}

async function sendChild(sinkUrl, count) {
  const { createPushServer, memoryStore } = await import('../dist/server.js');
  const vapid = JSON.parse(process.env.BENCH_VAPID);
  const store = memoryStore();
  const keys = browserKeys();
  for (let i = 0; i < count; i++) {
    await store.saveSubscription({ subscription: { endpoint: `${sinkUrl}/push/send-${i}`, expirationTime: null, keys } });
  }
  const server = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
  // Warm up: connections, JIT, the VAPID token.
  await server.send(envelope, { to: (await store.findSubscriptions({ limit: 200 })).map((entry) => entry.id) });
  const before = process.cpuUsage();
  const started = performance.now();
  const result = await server.send(envelope);
  const ms = performance.now() - started;
  const used = process.cpuUsage(before);
  if (result.sent !== count) throw new Error(`send() sent ${result.sent} of ${count}: ${JSON.stringify(result.errors[0])}`);
  console.log(JSON.stringify({ messages: count, ms, messagesPerSecond: (count / ms) * 1000, cpuMicrosPerMessage: (used.user + used.system) / count }));
}

/** Schemas of `count` subscribers pointing at the sink, made in SQL (fast), dropped at the end. */
async function schemas(sinkUrl) {
  const { default: pg } = await import('pg');
  const { postgresStore } = await import('../dist/postgres.js');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
  const made = [];
  const keys = browserKeys();
  return {
    async makeSchema(count) {
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
async function queuedSend({ sinkUrl, vapid, env }, target, senders, { killAt } = {}) {
  const { createSendQueue } = await import('../dist/queue.js');
  const { postgresStore } = await import('../dist/postgres.js');
  const name = `tidings-bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await fetch(`${sinkUrl}/reset`, { method: 'POST' });
  const sinkBefore = (await (await fetch(`${sinkUrl}/stats`)).json()).cpuMicros;
  const redisBefore = await redisCpuMicros();
  const children = [];
  for (let i = 0; i < senders; i++) {
    children.push(await startChild([resolve(here, 'scale-sender.mjs'), redisUrl, postgresUrl, target.schema, name], env, (line) => line === 'ready'));
  }
  const store = postgresStore({ connectionString: postgresUrl, schema: target.schema });
  const queue = createSendQueue({ redis: redisUrl, store, vapid, name, allowLoopbackEndpoints: true });
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
  const sink = await (await fetch(`${sinkUrl}/stats`)).json();
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
    peakRss: stats.map((s) => s.peakRss),
    idleRss: stats.map((s) => s.idleRss),
    cpuMicrosPerMessage: stats.reduce((sum, s) => sum + s.cpuMicros, 0) / target.count,
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
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
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
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain') ? ' (uncommitted changes)' : '');
  } catch {
    return 'unknown';
  }
}

function report(r) {
  const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const load = (l) => (l ? l.map((x) => x.toFixed(1)).join(' ') : '?');
  const lines = [
    `# Sending at scale (bench/scale.mjs)`,
    '',
    `${r.date}, commit ${r.commit}, ${r.cores} cores, Node ${r.node}; load average ${load(r.loadBefore)} before, ${load(r.loadAfter)} after (a shared machine).`,
    '',
  ];
  lines.push('| figure | measured | budget | verdict |', '|---|---|---|---|');
  if (r.floor) {
    const floors = [r.floor, r.floorAfter].filter(Boolean).map((f) => f.cpuMicrosPerMessage);
    lines.push(`| RFC 8291 encryption alone (floor), CPU per message | ${floors.map((f) => `${f.toFixed(0)} µs`).join(' / ')} (before / after) | | |`);
    if (r.send) {
      const floor = medianOf(floors);
      const ratio = r.send.cpuMicrosPerMessage / floor;
      lines.push(
        `| send() CPU per message, ${r.send.messages} subscribers, counting sink | ${r.send.cpuMicrosPerMessage.toFixed(0)} µs = ${ratio.toFixed(2)} x floor (${Math.round(r.send.messagesPerSecond)}/s) | <= 1.5 x | ${ratio <= 1.5 ? 'met' : 'missed'} |`,
      );
    }
  }
  if (r.senders && r.floor) {
    // The same per-core figure for a queued sender: its CPU over the whole send, Redis and all.
    const one = r.senders.rounds.filter((x) => x.senders === 1).map((x) => x.cpuMicrosPerMessage);
    const floor = medianOf([r.floor, r.floorAfter].filter(Boolean).map((f) => f.cpuMicrosPerMessage));
    const ratio = medianOf(one) / floor;
    lines.push(`| queued sender CPU per message (tidings sender), ${r.senders.subscribers} subscribers | ${medianOf(one).toFixed(0)} µs = ${ratio.toFixed(2)} x floor | <= 1.5 x | ${ratio <= 1.5 ? 'met' : 'missed'} |`);
  }
  if (r.senders) {
    const s = r.senders;
    // Two cores shared by the senders, the sink and Redis: two senders can at best use both
    // cores for everything, one sender at best one core for itself.
    const one = s.rounds.filter((x) => x.senders === 1);
    const per = (key) => medianOf(one.map((x) => x[key]));
    s.ceiling = (2 * per('cpuMicrosPerMessage')) / (per('cpuMicrosPerMessage') + per('sinkCpuMicrosPerMessage') + per('redisCpuMicrosPerMessage'));
    lines.push(
      `| queued send, ${s.subscribers} subscribers: one sender vs two | ${(s.oneMs / 1000).toFixed(1)} s vs ${(s.twoMs / 1000).toFixed(1)} s = ${s.speedup.toFixed(2)} x | >= 1.6 x | ${s.speedup >= 1.6 ? 'met' : 'missed'} (this machine's ceiling: ${s.ceiling.toFixed(2)} x) |`,
    );
  }
  if (r.memory) {
    const m = r.memory;
    lines.push(
      `| sender peak RSS, ${m.small.subscribers} vs ${m.big.subscribers} subscribers (PostgreSQL) | ${mb(m.small.peakRss[0])} vs ${mb(m.big.peakRss[0])} = ${m.ratio.toFixed(2)} x | within 20% | ${Math.abs(m.ratio - 1) <= 0.2 ? 'met' : 'missed'} |`,
    );
  }
  if (r.kill) {
    const k = r.kill;
    lines.push(
      `| kill test, ${k.status.total} subscribers, 2 senders, one SIGKILLed at ${k.killedAtSent} sent | reached ${k.reached}, duplicates ${k.duplicates}, recovered in ${(k.recoveryMs / 1000).toFixed(1)} s (lock 3 s), counts ${k.status.sent}/${k.status.gone}/${k.status.failed} | all reached, duplicates <= 500 | ${k.reached === k.status.total && k.duplicates <= 500 ? 'met' : 'missed'} |`,
    );
  }
  lines.push('', '```json', JSON.stringify(r, null, 2), '```', '');
  return `${lines.join('\n')}\n`;
}
