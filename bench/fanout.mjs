// Fan-out: send() to 1,000 headless subscribers through the local push service, against
// web-push's own sendNotification (which needs HTTPS: the service's tls mode, its CA
// passed with NODE_EXTRA_CA_CERTS). Each sender runs in its own child process so its
// peak memory is its own; the push service runs here.
// Run after `npm run build`: node bench/fanout.mjs [count]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else await parent(Number(process.argv[2] ?? 1000));

async function parent(count) {
  const { generateVapidKeys } = await import('../dist/server.js');
  const { startPushService } = await import('../dist/testing.js');
  const vapid = { ...generateVapidKeys(), subject: 'mailto:bench@tidings.example' };
  const dir = mkdtempSync(join(tmpdir(), 'tidings-fanout-'));
  const plain = await startPushService();
  const secure = await startPushService({ tls: true });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, secure.ca);
  const payload = { v: 1, notification: { title: 'Fan-out', body: 'x'.repeat(200) } };

  const runs = [
    { name: 'tidings send() over http', sender: 'tidings', service: plain },
    { name: 'tidings send() over https', sender: 'tidings', service: secure },
    { name: 'web-push sendNotification, sequential loop (https)', sender: 'web-push-loop', service: secure },
    { name: 'web-push sendNotification, 50 at a time (https)', sender: 'web-push-50', service: secure },
  ];
  const results = [];
  try {
    for (const run of runs) {
      const subscriptions = [];
      for (let i = 0; i < count; i++) subscriptions.push(await run.service.subscribe(vapid.publicKey));
      const input = join(dir, `${run.sender}.json`);
      writeFileSync(input, JSON.stringify({ vapid, subscriptions, payload }));
      const out = await runChild(run.sender, input, { NODE_EXTRA_CA_CERTS: caFile });
      let delivered = 0;
      for (const { endpoint } of subscriptions) {
        const texts = await run.service.received(endpoint);
        delivered += texts.filter((text) => JSON.parse(text).notification?.title === 'Fan-out').length;
      }
      results.push({ name: run.name, ...out, delivered });
    }
  } finally {
    await plain.close();
    await secure.close();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`Fan-out to ${count} headless subscribers (Node ${process.versions.node}, ${payload.notification.body.length + 40}-byte envelope)\n`);
  console.log('| sender | delivered | time | messages/s | peak RSS | RSS over idle |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.delivered}/${count} | ${r.ms.toFixed(0)} ms | ${Math.round((r.sent / r.ms) * 1000)} | ${mb(r.peakRss)} | ${mb(r.peakRss - r.idleRss)} |`,
    );
  }
  // The last line is JSON, for bench/fanout-runner.mjs.
  const summary = results.map((r) => ({
    name: r.name,
    delivered: r.delivered,
    ms: Math.round(r.ms),
    messagesPerSecond: Math.round((r.sent / r.ms) * 1000),
    peakRssBytes: r.peakRss,
    rssOverIdleBytes: r.peakRss - r.idleRss,
  }));
  console.log(JSON.stringify({ subscribers: count, results: summary }));
}

function runChild(sender, input, env) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [self, '--child', sender, input], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    proc.stdout.on('data', (chunk) => (stdout += chunk));
    proc.on('error', reject);
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`${sender} exited ${code}`))));
  });
}

async function child(sender, input) {
  const { vapid, subscriptions, payload } = JSON.parse(readFileSync(input, 'utf8'));
  let send;
  if (sender === 'tidings') {
    const { createPushServer, memoryStore } = await import('../dist/server.js');
    const store = memoryStore();
    for (const subscription of subscriptions) await store.saveSubscription({ subscription });
    const server = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
    send = async () => {
      const result = await server.send(payload);
      if (result.failed) throw new Error(JSON.stringify(result.errors[0]));
      return result.sent;
    };
  } else {
    const { default: webpush } = await import('web-push');
    const options = { vapidDetails: vapid, TTL: 60 };
    const body = JSON.stringify(payload);
    const one = (subscription) => webpush.sendNotification(subscription, body, options);
    send =
      sender === 'web-push-loop'
        ? async () => {
            for (const subscription of subscriptions) await one(subscription);
            return subscriptions.length;
          }
        : async () => {
            let next = 0;
            const worker = async () => {
              while (next < subscriptions.length) await one(subscriptions[next++]);
            };
            await Promise.all(Array.from({ length: 50 }, worker));
            return subscriptions.length;
          };
  }
  globalThis.gc?.();
  const idleRss = process.memoryUsage().rss;
  const started = performance.now();
  const sent = await send();
  const ms = performance.now() - started;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ sent, ms, idleRss, peakRss }));
}

function mb(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
