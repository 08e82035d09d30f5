import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCliScratch, type CliScratch } from '../../support/cliScratch.js';

// What `tidings sender` and `tidings send --redis` refuse before they touch anything
// (no build needed: the CLI runs from its transpiled sources, see test/support/cliScratch.ts,
// and the flags are checked before the library is loaded). Their real runs are
// test/e2e/queue-kill.test.ts.
let cli: CliScratch;
let bin: string;
beforeAll(() => {
  cli = makeCliScratch();
  bin = cli.bin;
});
afterAll(() => cli.remove());
const vapidEnv = { VAPID_PUBLIC_KEY: 'x', VAPID_PRIVATE_KEY: 'y', VAPID_SUBJECT: 'mailto:a@b.example' };
const run = (args: string[], env: Record<string, string> = {}) => {
  const result = spawnSync(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  return { code: result.status, stderr: result.stderr };
};

describe('tidings sender and tidings send --redis refuse bad arguments with exit 2', () => {
  it('needs --redis, a redis:// URL, and --store', () => {
    expect(run(['sender'])).toMatchObject({ code: 2, stderr: expect.stringContaining('sender needs --redis') });
    expect(run(['sender', '--redis', 'http://127.0.0.1:6379'])).toMatchObject({ code: 2, stderr: expect.stringContaining('redis:// or rediss://') });
    expect(run(['sender', '--redis', 'redis://127.0.0.1:6379'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--store') });
    expect(run(['send', '--redis', 'redis://127.0.0.1:6379', '--title', 'T'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--store') });
  });

  it('checks the message flags as plain send does', () => {
    expect(run(['send', '--redis', 'redis://127.0.0.1:6379', '--store', 'x.db'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--title') });
    const both = run(['send', '--redis=redis://127.0.0.1:6379', '--store', 'x.db', '--title', 'T', '--to', 'a', '--attr', 'k=v']);
    expect(both).toMatchObject({ code: 2, stderr: expect.stringContaining('use one of --to, --attr and --audience') });
  });

  it('needs VAPID keys, an existing SQLite file, and --schema only for PostgreSQL', () => {
    expect(run(['sender', '--redis', 'redis://127.0.0.1:6379', '--store', 'x.db'])).toMatchObject({ code: 2, stderr: expect.stringContaining('VAPID_PUBLIC_KEY') });
    expect(run(['sender', '--redis', 'redis://127.0.0.1:6379', '--store', '/nonexistent/x.db'], vapidEnv)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('does not exist'),
    });
    expect(run(['sender', '--redis', 'redis://127.0.0.1:6379', '--store', 'x.db', '--schema', 's'], vapidEnv)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--schema is for a postgres:// store'),
    });
    expect(run(['sender', '--redis', 'redis://127.0.0.1:6379', '--store', 'x.db', '--concurrency', '0'], vapidEnv)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--concurrency'),
    });
  });

  it('takes a metrics port from 0 to 65535, and a metrics host only with it', () => {
    const sender = ['sender', '--redis', 'redis://127.0.0.1:6379', '--store', 'x.db'];
    expect(run([...sender, '--metrics-port', 'http'], vapidEnv)).toMatchObject({ code: 2, stderr: expect.stringContaining('--metrics-port must be a number from 0 to 65535') });
    expect(run([...sender, '--metrics-port', '70000'], vapidEnv)).toMatchObject({ code: 2, stderr: expect.stringContaining('--metrics-port must be a number') });
    expect(run([...sender, '--metrics-host', '0.0.0.0'], vapidEnv)).toMatchObject({ code: 2, stderr: expect.stringContaining('--metrics-host needs --metrics-port') });
  });
});
