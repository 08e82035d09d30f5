import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys } from '../../../src/server/index.js';
import { makeCliScratch, type CliScratch } from '../../support/cliScratch.js';
import { postgresUrl, redisUrl } from '../../support/services.js';

// Every flag of every command, given a value it cannot use: exit 2 with one line saying
// which and why (and the usage hint), never a stack trace. `tidings sender --schema 'a"b'`
// was a TidingsError thrown before the command's own error handling, so exit 1 with a stack.
let cli: CliScratch;
let busy: Server;
let busyPort: number;
beforeAll(async () => {
  cli = makeCliScratch();
  writeFileSync(join(cli.dir, 'not-a-db.db'), 'this is not SQLite');
  // The demo as the package ships it, beside the transpiled CLI: demo/startDemo.mjs loads
  // ../dist/server.js and ../dist/testing.js relative to itself, and checks the bundles are built.
  const demoDir = join(cli.dir, 'out/src/demo');
  mkdirSync(demoDir, { recursive: true });
  copyFileSync(join(import.meta.dirname, '../../../demo/startDemo.mjs'), join(demoDir, 'startDemo.mjs'));
  const dist = join(cli.dir, 'out/src/dist');
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(dist, 'server.js'), "export * from '../server/index.js';\n");
  writeFileSync(join(dist, 'testing.js'), "export * from '../testing/index.js';\n");
  for (const file of ['tidings.iife.js', 'tidings-worker.iife.js']) writeFileSync(join(dist, file), '');
  // The dashboard's pages are built by rollup, which this scratch copy skips: these tests
  // stop at a flag the demo refuses, before any page is served.
  writeFileSync(join(dist, 'dashboard.js'), 'export function createDashboard() { return { handler: async () => new Response(null, { status: 404 }) }; }\n');
  busy = createServer();
  await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  cli.remove();
  await new Promise((done) => busy.close(done));
});
const keys = generateVapidKeys();
const vapid = { VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: 'mailto:ops@site.example' };
const run = (args: string[], env: Record<string, string> = vapid) => {
  const result = spawnSync(process.execPath, [cli.bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: cli.dir, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stderr: result.stderr };
};
const store = () => join(cli.dir, 'not-a-db.db');

const cases: [string, () => string[], RegExp][] = [
  ['sender --schema with a quote', () => ['sender', '--redis', redisUrl, '--store', postgresUrl, '--schema', 'a"b'], /schema/],
  ['send --redis --schema with a quote', () => ['send', '--redis', redisUrl, '--store', postgresUrl, '--schema', 'a"b', '--title', 'T'], /schema/],
  ['sender --queue with a colon', () => ['sender', '--redis', redisUrl, '--store', postgresUrl, '--queue', 'a:b'], /name/],
  ['send --redis --queue with a colon', () => ['send', '--redis', redisUrl, '--store', postgresUrl, '--queue', 'a:b', '--title', 'T'], /name/],
  ['sender --concurrency 0', () => ['sender', '--redis', redisUrl, '--store', postgresUrl, '--concurrency', '0'], /--concurrency/],
  ['sender --stall-timeout 10', () => ['sender', '--redis', redisUrl, '--store', postgresUrl, '--stall-timeout', '10'], /--stall-timeout/],
  ['send --redis --batch-size 1e9', () => ['send', '--redis', redisUrl, '--store', postgresUrl, '--batch-size', '1000000000', '--title', 'T'], /batchSize/],
  ['send --store that is not SQLite', () => ['send', '--store', store(), '--title', 'T'], /store-failed/],
  ['send --urgency bogus', () => ['send', '--store', store(), '--title', 'T', '--urgency', 'bogus'], /urgency|store-failed/],
  ['send --ttl -1', () => ['send', '--store', store(), '--title', 'T', '--ttl', '-1'], /--ttl/],
  ['send --data not JSON', () => ['send', '--store', store(), '--title', 'T', '--data', '{'], /--data/],
  ['send --attr without =', () => ['send', '--store', store(), '--title', 'T', '--attr', 'k'], /--attr/],
  ['push-service --port 70000', () => ['push-service', '--port', '70000'], /--port/],
  ['push-service --port in use', () => ['push-service', '--port', String(busyPort)], /port|in use|EADDRINUSE/],
  ['demo --port in use', () => ['demo', '--port', String(busyPort), '--push-port', '0', '--data-dir', join(cli.dir, 'demo-data')], /EADDRINUSE/],
  ['demo --push-port in use', () => ['demo', '--port', '0', '--push-port', String(busyPort), '--data-dir', join(cli.dir, 'demo-data')], /EADDRINUSE/],
  ['demo --data-dir that cannot be made', () => ['demo', '--port', '0', '--push-port', '0', '--data-dir', join(store(), 'inside-a-file')], /ENOTDIR/],
  ['demo --port 99999', () => ['demo', '--port', '99999'], /--port/],
  ['vapid --subject without a scheme', () => ['vapid', '--subject', 'nobody'], /subject/],
  ['vapid --public-env-name lower case', () => ['vapid', '--public-env-name', 'lower', '--env', join(cli.dir, 'x.env')], /public-env-name/],
  ['vapid --env a directory', () => ['vapid', '--env', cli.dir], /--env|directory|not a file/],
  ['an unknown flag', () => ['sender', '--bogus'], /bogus/],
];

describe('the CLI refuses a bad value of any flag with one line and exit 2', () => {
  it.each(cases)('%s', (_name, args, reason) => {
    const { code, stderr } = run(args());
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).toMatch(reason);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(2);
  });
});
