// One sender process for bench/scale.mjs: startSendWorker over PostgreSQL, until SIGTERM;
// then prints its peak RSS and CPU time as JSON. Args: redisUrl postgresUrl schema queue.
const [redis, connectionString, schema, name] = process.argv.slice(2);
// BENCH_SCALE_DIST: another build's dist/ (bench/scale.mjs's baseline).
const dist = (name) => new URL(name, process.env.BENCH_SCALE_DIST ? `file://${process.env.BENCH_SCALE_DIST}/` : new URL('../dist/', import.meta.url)).href;
const { startSendWorker } = await import(dist('queue.js'));
const { postgresStore } = await import(dist('postgres.js'));
const vapid = JSON.parse(process.env.BENCH_VAPID);
const store = postgresStore({ connectionString, schema });
// The CPU at the end of each batch (markSent is called once a batch, with whom it reached),
// so the parent can read the cost a message once the sender is warm (JIT, connections,
// the VAPID token), as send() is measured after its warm-up: from the 4th batch's end to
// the last's.
const marks = [];
const markSent = store.markSent.bind(store);
store.markSent = (ids, at) => {
  const { user, system } = process.cpuUsage();
  marks.push([(marks.at(-1)?.[0] ?? 0) + ids.length, user + system]);
  return markSent(ids, at);
};
// BENCH_DELIVERY: the delivery options for the sink (its CA, HTTP/2 on or off).
const delivery = JSON.parse(process.env.BENCH_DELIVERY ?? '{}');
const worker = await startSendWorker({ redis, store, vapid, name, allowLoopbackEndpoints: true, lockDuration: 3000, stalledInterval: 3000, ...delivery });
const idleRss = process.memoryUsage().rss;
// Starting (loading the modules, connecting) costs a sender about 250 ms of CPU once; the
// CPU from here on is what sending costs, reported beside the whole process's.
const atReady = process.cpuUsage();
console.log('ready');
process.once('SIGTERM', async () => {
  await worker.close();
  await store.close();
  const { userCPUTime, systemCPUTime, maxRSS } = process.resourceUsage();
  const sinceReady = process.cpuUsage(atReady);
  const [from, to] = [marks[3], marks.at(-1)];
  const warm = from && to && to[0] > from[0] ? { messages: to[0] - from[0], cpuMicros: to[1] - from[1] } : undefined;
  console.log(JSON.stringify({ warm, idleRss, peakRss: maxRSS * 1024, cpuMicros: userCPUTime + systemCPUTime, cpuMicrosSinceReady: sinceReady.user + sinceReady.system }));
  process.exit(0);
});
