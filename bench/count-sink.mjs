// A push service that only counts: it answers 201 to every POST /push/N without reading
// the crypto, so what a benchmark measures is the sender. Runs in a process of its own
// and prints its URL; GET /stats answers {total, distinct, duplicates, cpuMicros, http2},
// POST /reset clears. Used by bench/scale.mjs.
//   node bench/count-sink.mjs            plain http, HTTP/1.1
//   node bench/count-sink.mjs --tls FILE https with a certificate made at start (its CA
//                                        written to FILE), HTTP/2 to clients that offer
//                                        it (ALPN h2), HTTP/1.1 to the others
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createSecureServer } from 'node:http2';

const counts = new Map();
let total = 0;
// Pushes that came over HTTP/2: says which protocol a run measured.
let http2 = 0;

const onRequest = (request, response) => {
  if (request.method === 'POST' && request.url.startsWith('/push/')) {
    // Drain the body (a push service reads it) but keep nothing of it.
    request.on('data', () => {});
    request.on('end', () => {
      const key = request.url.slice(6);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
      if (request.httpVersion === '2.0') http2++;
      response.writeHead(201, { location: `/m/${total}` }).end();
    });
    return;
  }
  if (request.url === '/stats') {
    let duplicates = 0;
    for (const n of counts.values()) duplicates += n - 1;
    // Its own CPU too: on a two-core machine the sink's share bounds what senders can reach.
    const { user, system } = process.cpuUsage();
    const stats = { total, distinct: counts.size, duplicates, cpuMicros: user + system, http2 };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  if (request.method === 'POST' && request.url === '/reset') {
    counts.clear();
    total = http2 = 0;
    response.writeHead(204).end();
    return;
  }
  response.writeHead(404).end();
};

let server;
if (process.argv[2] === '--tls') {
  const { createCertificate } = await import('../dist/testing.js');
  const { ca, cert, key } = createCertificate();
  writeFileSync(process.argv[3], ca);
  // As many streams at once as a sender cares to open: the sender is what is measured.
  server = createSecureServer({ cert, key, allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } }, onRequest);
} else {
  server = createServer(onRequest);
  server.keepAliveTimeout = 60_000;
}
server.listen(0, '127.0.0.1', () => console.log(`${process.argv[2] === '--tls' ? 'https' : 'http'}://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// HTTP/2 sessions stay open while senders keep them: do not wait for them.
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 200).unref());
