// Server fan-out is the server engineer's bench/fanout.mjs; this only runs it, in a process
// of its own so its peak memory is its own, first at 1,000 subscribers and then at 10,000
// when the first run shows that fits the bench's time.
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const script = resolve(import.meta.dirname, 'fanout.mjs');

/** Runs fanout.mjs for `subscribers`; its last stdout line, if JSON, is its result. */
function runFanout(subscribers, timeoutMs) {
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(process.execPath, [script, String(subscribers)], {
      env: { ...process.env, BENCH_SUBSCRIBERS: String(subscribers) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      const last = out.trim().split('\n').pop() ?? '';
      let result = null;
      try {
        result = JSON.parse(last);
      } catch {}
      done({ subscribers, exitCode: code, signal, seconds, result, ...(result ? {} : { output: out.trim().slice(-2000) }) });
    });
  });
}

/** Fan-out results, or pending while bench/fanout.mjs does not exist. */
export async function fanout({ budgetSeconds = 300 } = {}) {
  if (!existsSync(script)) return { pending: 'bench/fanout.mjs (server fan-out, by the server engineer) has not landed' };
  const runs = [await runFanout(1_000, budgetSeconds * 1000)];
  // 10x the subscribers takes about 10x the time; run it only when that fits.
  if (runs[0].exitCode === 0 && runs[0].seconds * 10 < budgetSeconds) runs.push(await runFanout(10_000, budgetSeconds * 1000));
  else runs.push({ subscribers: 10_000, skipped: `1,000 took ${runs[0].seconds} s; 10,000 would not fit the bench's time` });
  return { runs };
}
