import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { rolldown } from 'rolldown';
import { afterAll, beforeAll } from 'vitest';
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
beforeAll(async () => {
  // pg for a Worker: one CommonJS file, Node's built-ins left to workerd (nodejs_compat),
  // pg-cloudflare's socket chosen by the `workerd` condition.
  const folder = mkdtempSync(join(tmpdir(), 'tidings-workerd-pg-'));
  folders.push(folder);
  const external = [...builtinModules, ...builtinModules.map((name) => `node:${name}`), 'cloudflare:sockets', 'pg-native'];
  const bundle = await rolldown({ input: here('fixtures/pg.cjs'), platform: 'node', external, resolve: { conditionNames: ['workerd', 'worker', 'require', 'default'] }, logLevel: 'silent' });
  pgBundle = join(folder, 'pg.cjs');
  await bundle.write({ file: pgBundle, format: 'cjs' });
  await bundle.close();
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
  copyFileSync(pgBundle, join(folder, 'pg.cjs'));
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
    (name = "pg.cjs", commonJsModule = embed "pg.cjs"),
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
