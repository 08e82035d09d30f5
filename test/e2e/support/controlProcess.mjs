// One process of the sending-controls e2e tests, run from the built package (dist/):
//   scheduler <postgresUrl> <schema>             a push server whose scheduler runs due sends
//   schedule <postgresUrl> <schema> <id> <at>    the same, after scheduling a send of <id> at <at> (ms)
//   sender <postgresUrl> <schema> <redis> <queue>            a queue sender
//   queue-send <postgresUrl> <schema> <redis> <queue> <id> <at>   queues a send at <at>, then waits
// Prints 'ready' when it runs; on SIGTERM closes what it opened and exits 0. VAPID keys
// come in TIDINGS_TEST_VAPID (JSON); the scheduler's lease and poll in TIDINGS_TEST_LEASE
// and TIDINGS_TEST_POLL (ms). A send's extra options come in TIDINGS_TEST_OPTIONS (JSON).
const [role, connectionString, schema, ...rest] = process.argv.slice(2);
const { createPushServer } = await import('../../../dist/server.js');
const { postgresStore } = await import('../../../dist/postgres.js');
const vapid = JSON.parse(process.env.TIDINGS_TEST_VAPID);
const extra = JSON.parse(process.env.TIDINGS_TEST_OPTIONS ?? '{}');
const store = postgresStore({ connectionString, schema });
const closers = [];

if (role === 'scheduler' || role === 'schedule') {
  const scheduler = { pollInterval: Number(process.env.TIDINGS_TEST_POLL ?? 100), lease: Number(process.env.TIDINGS_TEST_LEASE ?? 2000) };
  const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, scheduler });
  closers.push(() => push.close());
  if (role === 'schedule') {
    const [id, at] = rest;
    const result = await push.send({ v: 1, id, notification: { title: `Scheduled ${id}` } }, { at: Number(at), ...extra });
    console.log(`scheduled ${result.id} ${result.scheduledAt}`);
  }
} else {
  const { createSendQueue, startSendWorker } = await import('../../../dist/queue.js');
  const [redis, name, id, at] = rest;
  if (role === 'sender') {
    const worker = await startSendWorker({ redis, store, vapid, name, allowLoopbackEndpoints: true, lockDuration: 2000, stalledInterval: 2000 });
    closers.push(() => worker.close());
  } else {
    const queue = createSendQueue({ redis, store, vapid, name, allowLoopbackEndpoints: true });
    closers.push(() => queue.close());
    const result = await queue.send({ v: 1, id, notification: { title: `Queued ${id}` } }, { at: Number(at), ...extra });
    console.log(`scheduled ${result.id} ${result.scheduledAt}`);
  }
}
console.log('ready');
// The scheduler's timer does not hold the process open by itself.
const alive = setInterval(() => {}, 1 << 30);
process.once('SIGTERM', async () => {
  clearInterval(alive);
  for (const close of closers) await close();
  await store.close();
  process.exit(0);
});
