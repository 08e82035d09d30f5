// A push service that only counts: it answers 201 to every POST /push/N without reading
// the crypto, so what a benchmark measures is the sender. Runs in a process of its own
// and prints its URL; GET /stats answers {total, distinct, duplicates}, POST /reset clears.
// Used by bench/scale.mjs.
import { createServer } from 'node:http';

const counts = new Map();
let total = 0;

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url.startsWith('/push/')) {
    // Drain the body (a push service reads it) but keep nothing of it.
    request.on('data', () => {});
    request.on('end', () => {
      const key = request.url.slice(6);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
      response.writeHead(201, { location: `/m/${total}` }).end();
    });
    return;
  }
  if (request.url === '/stats') {
    let duplicates = 0;
    for (const n of counts.values()) duplicates += n - 1;
    // Its own CPU too: on a two-core machine the sink's share bounds what senders can reach.
    const { user, system } = process.cpuUsage();
    const stats = { total, distinct: counts.size, duplicates, cpuMicros: user + system };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  if (request.method === 'POST' && request.url === '/reset') {
    counts.clear();
    total = 0;
    response.writeHead(204).end();
    return;
  }
  response.writeHead(404).end();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
