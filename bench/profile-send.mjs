// Where send()'s CPU goes, reproducibly (issue 22): send() to a push service that only
// counts (bench/count-sink.mjs), in a child run with `node --cpu-prof`, then the profile's
// samples inside the measured send (not the set-up or the warm-up) summed by function
// (self time) and by what the function belongs to. Run after `npm run build`:
//   node bench/profile-send.mjs [http1|http2] [subscribers]     (default http1 20000)
// Prints a table; keeps the .cpuprofile (its path is printed) for Chrome's DevTools.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';

const here = import.meta.dirname;
const protocol = process.argv[2] ?? 'http1';
const count = Number(process.argv[3] ?? 20_000);
const dir = mkdtempSync(resolve(tmpdir(), 'tidings-profile-'));

const sinkArgs = protocol === 'http2' ? ['--tls', resolve(dir, 'ca.pem')] : [];
const sink = spawn(process.execPath, [resolve(here, 'count-sink.mjs'), ...sinkArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
const sinkUrl = await firstLine(sink);
try {
  const { generateVapidKeys } = await import('../dist/server.js');
  const vapid = { ...generateVapidKeys(), subject: 'mailto:bench@tidings.example' };
  const delivery = protocol === 'http2' ? { ca: readFileSync(resolve(dir, 'ca.pem'), 'utf8'), http2: true } : {};
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, resolve(here, 'scale.mjs'), '--send-child', sinkUrl, String(count)], {
    env: { ...process.env, BENCH_VAPID: JSON.stringify(vapid), BENCH_DELIVERY: JSON.stringify(delivery) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const result = JSON.parse(await firstLine(child));
  await new Promise((done) => child.once('exit', done));
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  console.log(`send() to ${count} over ${protocol}: ${result.cpuMicrosPerMessage.toFixed(0)} µs CPU a message, ${Math.round(result.messagesPerSecond)} a second; profile ${resolve(dir, file)}`);
  summarize(JSON.parse(readFileSync(resolve(dir, file), 'utf8')), result.window, count);
} finally {
  sink.kill('SIGTERM');
}

/** Self time by function and by group, over the samples inside [from, to] (µs, monotonic). */
function summarize(profile, [from, to], messages) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < from || t > to) continue;
    // A sample stands for the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    const node = nodes.get(profile.samples[i]);
    self.set(node, (self.get(node) ?? 0) + weight);
    total += weight;
  }
  const byFunction = new Map();
  const byGroup = new Map();
  for (const [node, us] of self) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const group = groupOf(node.callFrame);
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
  }
  const table = (title, map, rows) => {
    console.log(`\n${title}  (µs a message, share of the sampled time)`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
      console.log(`${(us / messages).toFixed(1).padStart(7)}  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`);
    }
  };
  console.log(`sampled ${(total / messages).toFixed(0)} µs a message in the window (wall time, the main thread)`);
  table('By group', byGroup, 30);
  table('By function (self)', byFunction, 40);
  table('tidings functions (self)', new Map([...byFunction].filter(([name]) => name.includes(' dist/'))), 25);
}

function shortUrl(url) {
  return url.replace(/^file:\/\/.*?\/(dist|node_modules|bench)\//, '$1/').replace(/^node:/, '');
}

/** What a sampled function belongs to: Node's own modules by name, tidings, V8's pseudo-frames. */
function groupOf({ functionName, url }) {
  if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName}`;
  if (url.startsWith('node:')) return url;
  if (url.includes('/dist/')) return 'tidings (dist)';
  if (url.includes('/node_modules/')) return `node_modules/${url.split('/node_modules/').pop().split('/')[0]}`;
  return url;
}

function firstLine(child) {
  return new Promise((resolveLine, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end >= 0) resolveLine(buffer.slice(0, end));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before a line`)));
  });
}
