import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore } from '../../../src/server/index.js';
import { newReceiver } from '../../support/receiver.js';

const GB = 2 ** 30;
const MB = 2 ** 20;

// A push service in its own process, so the memory measured is the sender's alone. It
// answers `status` and then streams 3 GB (with back-pressure, so it holds none of it
// itself), and reports how much it wrote when the sender hangs up.
const streamer = `
const http = require('node:http');
const status = Number(process.argv[1]);
const total = 3 * ${GB};
const chunk = Buffer.alloc(64 * 1024, 0x61);
const server = http.createServer((request, response) => {
  request.resume();
  let written = 0;
  response.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(total) });
  const pump = () => {
    while (written < total) {
      written += chunk.length;
      if (!response.write(chunk)) return response.once('drain', pump);
    }
    response.end();
  };
  response.on('close', () => process.stdout.write('written ' + written + '\\n'));
  pump();
});
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
`;

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill();
  child = undefined;
});

/** Starts the streamer; resolves its port, and a promise of the bytes it wrote before the sender hung up. */
async function startStreamer(status: number): Promise<{ port: number; written: Promise<number> }> {
  child = spawn(process.execPath, ['-e', streamer, String(status)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  let onWritten: (bytes: number) => void;
  const written = new Promise<number>((resolve) => (onWritten = resolve));
  const port = await new Promise<number>((resolve, reject) => {
    child!.on('error', reject);
    child!.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      const portLine = /port (\d+)/.exec(output);
      if (portLine) resolve(Number(portLine[1]));
      const writtenLine = /written (\d+)/.exec(output);
      if (writtenLine) onWritten(Number(writtenLine[1]));
    });
  });
  return { port, written };
}

describe('send() reads at most a few hundred bytes of any answer', () => {
  it.each([
    [201, { sent: 1, failed: 0 }],
    [400, { sent: 0, failed: 1 }],
    [503, { sent: 0, failed: 1 }],
  ])('a %i that then streams 3 GB leaves the sender within 20 MB of where it started', async (status, counts) => {
    const { port, written } = await startStreamer(status);
    const store = memoryStore();
    const server = createPushServer({ vapid: { ...generateVapidKeys(), subject: 'mailto:ops@site.example' }, store, allowLoopbackEndpoints: true, retries: 0, timeout: 10_000 });
    await store.saveSubscription({ subscription: { endpoint: `http://127.0.0.1:${port}/push`, expirationTime: null, keys: (await newReceiver()).keys } });

    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const started = performance.now();
    const result = await server.send({ v: 1 });
    const bytes = await written;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    expect(result).toMatchObject(counts);
    if (status !== 201) expect(result.errors[0]).toMatchObject({ status, reason: expect.stringMatching(/^a{199}…$/) });
    expect(peak - before).toBeLessThan(20 * MB);
    // Hung up on: the push service wrote what the socket buffers hold, not 3 GB.
    expect(bytes).toBeLessThan(64 * MB);
    expect(performance.now() - started).toBeLessThan(5000);
    console.info(`${status}: peak RSS +${((peak - before) / MB).toFixed(1)} MB, streamer wrote ${(bytes / MB).toFixed(1)} MB before the sender hung up`);
  }, 20_000);
});
