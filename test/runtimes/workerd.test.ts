import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { rolldown } from 'rolldown';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Server from '../../src/server/index.js';
import type * as Testing from '../../src/testing/index.js';
import type * as Postgres from '../../src/postgres/index.js';
import type * as QueueModule from '../../src/queue/index.js';
import { importBuilt } from '../support/importBuilt.js';
import { freshName, postgresUrl, redisUrl, serviceAnswers } from '../support/services.js';
import { runtimeSuite, spawnServer, type RuntimeConfig } from './support/runtimeSuite.js';

// Cloudflare's workerd from npm (devDependency `workerd`: the runtime Workers run on, the
// one wrangler and miniflare start), run directly with a capnp config. The Worker is
// fixtures/workerd.mjs with the app and the built dist/server.js and dist/dashboard.js
// beside it, unbundled: they import nothing but node: modules, which workerd has (nodejs_compat is
// the default from its 2026-08-04 compatibility date). Its outbound network may reach
// loopback only: the local push service, and PostgreSQL through pg over cloudflare:sockets.
const workerd = fileURLToPath(new URL('../../node_modules/workerd/bin/workerd', import.meta.url));
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const folders: string[] = [];
let pgBundle: string;
let bullmqBundle: string;
beforeAll(async () => {
  // pg and BullMQ for a Worker: one CommonJS file each, Node's built-ins left to workerd
  // (nodejs_compat: its node:net carries ioredis), pg-cloudflare's socket chosen by the
  // `workerd` condition.
  const folder = mkdtempSync(join(tmpdir(), 'tidings-workerd-pg-'));
  folders.push(folder);
  const external = [...builtinModules, ...builtinModules.map((name) => `node:${name}`), 'cloudflare:sockets', 'pg-native'];
  const bundleOf = async (input: string, file: string) => {
    const bundle = await rolldown({ input: here(input), platform: 'node', external, resolve: { conditionNames: ['workerd', 'worker', 'require', 'default'] }, logLevel: 'silent' });
    await bundle.write({ file: join(folder, file), format: 'cjs' });
    await bundle.close();
    return join(folder, file);
  };
  pgBundle = await bundleOf('fixtures/pg.cjs', 'pg.cjs');
  bullmqBundle = await bundleOf('fixtures/bullmq.cjs', 'bullmq.cjs');
});
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A port free now on 127.0.0.1 (workerd wants one named in its config). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startWorkerd(config: RuntimeConfig) {
  const folder = mkdtempSync(join(tmpdir(), 'tidings-workerd-'));
  folders.push(folder);
  copyFileSync(here('fixtures/workerd.mjs'), join(folder, 'worker.mjs'));
  copyFileSync(here('fixtures/app.mjs'), join(folder, 'app.mjs'));
  copyFileSync(here('fixtures/mapStore.mjs'), join(folder, 'mapStore.mjs'));
  copyFileSync(here('../../dist/server.js'), join(folder, 'server.js'));
  copyFileSync(here('../../dist/dashboard.js'), join(folder, 'dashboard.js'));
  copyFileSync(here('../../dist/postgres.js'), join(folder, 'postgres.js'));
  copyFileSync(here('../../dist/queue.js'), join(folder, 'queue.js'));
  copyFileSync(pgBundle, join(folder, 'pg.cjs'));
  copyFileSync(bullmqBundle, join(folder, 'bullmq.cjs'));
  const port = await freePort();
  writeFileSync(
    join(folder, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "site", worker = .site),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "site")],
);
const site :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "app.mjs", esModule = embed "app.mjs"),
    (name = "mapStore.mjs", esModule = embed "mapStore.mjs"),
    (name = "server.js", esModule = embed "server.js"),
    (name = "dashboard.js", esModule = embed "dashboard.js"),
    (name = "postgres.js", esModule = embed "postgres.js"),
    (name = "queue.js", esModule = embed "queue.js"),
    (name = "pg.cjs", commonJsModule = embed "pg.cjs"),
    (name = "bullmq.cjs", commonJsModule = embed "bullmq.cjs"),
  ],
  compatibilityDate = "2026-11-01",
  bindings = [(name = "CONFIG", text = ${JSON.stringify(JSON.stringify(config))})],
  globalOutbound = "loopback",
);
`,
  );
  // workerd says nothing when it listens unless asked: --verbose logs the socket.
  return spawnServer(workerd, ['serve', join(folder, 'config.capnp'), '--verbose'], {}, /Listening on http:\/\/127\.0\.0\.1:(\d+)/);
}

runtimeSuite('workerd', startWorkerd, { userAgent: /^Cloudflare-Workers$/, postgres: true });

describe('tidings/queue in workerd', () => {
  it('queues a send from a Worker (BullMQ bundled and passed in), and a sender in Node delivers it', async () => {
    if (!(await serviceAnswers('PostgreSQL', postgresUrl)) || !(await serviceAnswers('Redis', redisUrl))) return;
    const { generateVapidKeys } = await importBuilt<typeof Server>('server.js');
    const { startPushService } = await importBuilt<typeof Testing>('testing.js');
    const { postgresStore } = await importBuilt<typeof Postgres>('postgres.js');
    const { startSendWorker } = await importBuilt<typeof QueueModule>('queue.js');
    const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
    const service = await startPushService();
    const schema = freshName('runtime_queue_workerd').replace(/-/g, '_');
    const runtime = await startWorkerd({ vapid, store: 'postgres', postgresUrl, schema, redisUrl, queueName: schema });
    const store = postgresStore({ connectionString: postgresUrl, schema });
    try {
      // The subscription registered through the Worker's handler, into PostgreSQL.
      const subscription = await service.subscribe(vapid.publicKey);
      const registered = await fetch(`${runtime.origin}/api/push/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ subscription }),
      });
      expect(registered.status, runtime.output()).toBe(201);
      // The send queued by the Worker: its row in the send log, its batches in Redis.
      const envelope = { v: 1, id: 'queued-in-workerd', notification: { title: 'Queued in workerd' } };
      const queued = await fetch(`${runtime.origin}/queue`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope }) });
      const answer = await queued.text();
      expect(queued.status, `${answer}\n${runtime.output()}`).toBe(200);
      expect(JSON.parse(answer)).toMatchObject({ id: envelope.id });
      expect(await store.getSend(envelope.id)).toMatchObject({ via: 'queue', state: 'queued' });
      // A sender in Node takes it from Redis and delivers it; the push service decrypts it.
      const sender = await startSendWorker({ redis: redisUrl, store, vapid, name: schema, allowLoopbackEndpoints: true, pushServices: 'any' });
      try {
        // received() hands each message over once: gathered here until it comes.
        const got: string[] = [];
        await expect.poll(async () => got.push(...(await service.received(subscription.endpoint))), { timeout: 15_000 }).toBe(1);
        expect(JSON.parse(got[0]!)).toMatchObject({ id: envelope.id, notification: { title: 'Queued in workerd' } });
        await expect.poll(async () => (await store.getSend(envelope.id))?.state, { timeout: 15_000 }).toBe('done');
      } finally {
        await sender.close();
      }
    } finally {
      await store.close();
      await runtime.stop();
      await service.close();
    }
  }, 60_000);
});
