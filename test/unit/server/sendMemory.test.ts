import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore } from '../../../src/server/index.js';
import { newReceiver } from '../../support/receiver.js';
import { certificate, protocols, type Protocol } from '../../support/pushHost.js';

const GB = 2 ** 30;
const MB = 2 ** 20;

// A push service in its own process, so the memory measured is the sender's alone. It
// answers `status` and then streams 3 GB (with back-pressure, so it holds none of it
// itself), and reports how much it wrote when the sender hangs up (HTTP/1.1: the
// connection; HTTP/2: the stream, RST_STREAM).
const streamer = `
const status = Number(process.argv[1]);
const total = 3 * ${GB};
const chunk = Buffer.alloc(64 * 1024, 0x61);
const onRequest = (request, response) => {
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
};
const server = process.argv[2] === 'HTTP/2'
  ? require('node:http2').createSecureServer({ cert: process.env.CERT, key: process.env.KEY, allowHTTP1: false }, onRequest)
  : require('node:http').createServer(onRequest);
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
`;

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill();
  child = undefined;
});

/** Starts the streamer; resolves its port, and a promise of the bytes it wrote before the sender hung up. */
async function startStreamer(status: number, protocol: Protocol): Promise<{ port: number; written: Promise<number> }> {
  child = spawn(process.execPath, ['-e', streamer, String(status), protocol], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CERT: certificate.cert, KEY: certificate.key },
  });
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

describe.each(protocols)('send() over %s reads at most a few hundred bytes of any answer', (protocol) => {
  it.each([
    [201, { sent: 1, failed: 0 }],
    [400, { sent: 0, failed: 1 }],
    [503, { sent: 0, failed: 1 }],
  ])('a %i that then streams 3 GB leaves the sender within 20 MB of where it started', async (status, counts) => {
    const { port, written } = await startStreamer(status, protocol);
    const store = memoryStore();
    const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
    const server = createPushServer({ vapid, store, allowLoopbackEndpoints: true, retries: 0, timeout: 10_000, ca: certificate.ca });
    const scheme = protocol === 'HTTP/2' ? 'https' : 'http';
    await store.saveSubscription({ subscription: { endpoint: `${scheme}://127.0.0.1:${port}/push`, expirationTime: null, keys: (await newReceiver()).keys } });

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
    console.info(`${protocol} ${status}: peak RSS +${((peak - before) / MB).toFixed(1)} MB, streamer wrote ${(bytes / MB).toFixed(1)} MB before the sender hung up`);
  }, 20_000);
});
