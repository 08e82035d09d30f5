import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys, sqliteStore } from '../../../src/server/index.js';
import { startPushService } from '../../../src/testing/index.js';
import { makeCliScratch, type CliScratch } from '../../support/cliScratch.js';

// The sending controls on the command line: `tidings send` with --at, --local-time,
// --time-zone, --quiet, --per-second, --cap and --locales; `tidings status` and
// `tidings cancel`. One-line errors and exit 2 for what is malformed.
let cli: CliScratch;
beforeAll(() => {
  cli = makeCliScratch();
});
afterAll(() => cli.remove());

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli.bin, ...args], { env: { PATH: process.env.PATH ?? '' }, cwd: cli.dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('tidings send with sending controls, status and cancel', () => {
  it.each([
    [['--at', 'tomorrow'], '--at must be an ISO 8601 time with its offset'],
    [['--at', '2030-01-01T09:00:00'], '--at must be an ISO 8601 time with its offset'],
    [['--local-time', '9am'], '--local-time must be HH:MM'],
    [['--quiet', '22-8'], '--quiet must be HH:MM-HH:MM'],
    [['--quiet', '22:00-08:00-09:00'], '--quiet must be HH:MM-HH:MM'],
    [['--per-second', '0'], '--per-second must be a whole number >= 1'],
    [['--per-second', 'fast'], '--per-second must be a whole number >= 1'],
    [['--cap', '3'], '--cap must be MAX/PER'],
    [['--cap', '3/1y'], '--cap must be MAX/PER'],
    [['--locales', 'no-such-file.json'], '--locales no-such-file.json: ENOENT'],
    [['--time-zone', 'Mars/Base'], 'invalid-option timeZone'],
    [['--cap', '500/1d'], 'invalid-option cap.max'],
    [['--at', '2999-01-01T00:00:00Z'], 'invalid-option at'],
  ])('exits 2 with one line for %j', async (flags, reason) => {
    const store = join(cli.dir, `bad-${Math.random().toString(36).slice(2)}.db`);
    await sqliteStore(store).close();
    const keys = generateVapidKeys();
    const envFile = join(cli.dir, 'bad.env');
    writeFileSync(envFile, `VAPID_PUBLIC_KEY=${keys.publicKey}\nVAPID_PRIVATE_KEY=${keys.privateKey}\nVAPID_SUBJECT=mailto:a@b.c\n`);
    const { code, stdout, stderr } = await run(['send', '--store', store, '--env', envFile, '--title', 'Hi', ...flags]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toContain(reason);
    expect(stderr.split('\n')).toHaveLength(3);
  });

  it('refuses a locales file that is not a JSON object', async () => {
    const file = join(cli.dir, 'locales-bad.json');
    writeFileSync(file, '["fr"]');
    const { code, stderr } = await run(['send', '--store', 'x.db', '--title', 'Hi', '--locales', file]);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toContain('must hold a JSON object');
  });

  it.each([
    [['status'], 'status needs a message id'],
    [['cancel', '--store', 'x.db'], 'cancel needs a message id'],
    [['status', 'm1'], 'status needs --store'],
    [['cancel', 'm1', '--store', 'nowhere.db'], 'store nowhere.db does not exist'],
    [['status', 'm1', '--store', 'x.db', '--nope'], "Unknown option '--nope'"],
  ])('status and cancel exit 2 with one line for %j', async (args, reason) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toContain(reason);
  });

  it('schedules a send, shows it, cancels it; sends with a cap and languages now', async () => {
    const service = await startPushService();
    try {
      const keys = generateVapidKeys();
      const file = join(cli.dir, 'controls.db');
      const store = sqliteStore(file);
      const fr = await service.subscribe(keys.publicKey);
      const de = await service.subscribe(keys.publicKey);
      await store.saveSubscription({ subscription: fr, attributes: { language: 'fr-CA' } });
      await store.saveSubscription({ subscription: de, attributes: { language: 'de' } });
      await store.close();
      const envFile = join(cli.dir, 'controls.env');
      writeFileSync(envFile, `VAPID_PUBLIC_KEY=${keys.publicKey}\nVAPID_PRIVATE_KEY=${keys.privateKey}\nVAPID_SUBJECT=mailto:a@b.c\n`);
      const base = ['--store', file, '--env', envFile, '--allow-loopback'];

      // Noon, Paris time, in thirty days.
      const day = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
      const noon = new Date(`${day}T11:00:00Z`).toISOString();
      const later = await run(['send', ...base, '--title', 'Later', '--at', `${day}T12:00:00+01:00`, '--quiet', '22:00-08:00', '--cap', '3/1d', '--per-second', '10']);
      expect(later.stderr).toBe('');
      expect(later.code).toBe(0);
      const id = new RegExp(`^message (\\S+): scheduled for ${noon}`).exec(later.stdout)?.[1];
      expect(id, later.stdout).toBeDefined();
      const status = await run(['status', id!, '--store', file]);
      expect(status).toMatchObject({ code: 0, stdout: `message ${id}: scheduled for ${noon}, targeted 0, sent 0, gone 0, failed 0, capped 0, deferred 0\n` });
      const cancelled = await run(['cancel', id!, '--store', file]);
      expect(cancelled).toMatchObject({ code: 0, stdout: `message ${id}: cancelled, targeted 0, sent 0, gone 0, failed 0, capped 0, deferred 0\n` });
      expect((await run(['status', 'nothing', '--store', file])).code).toBe(1);

      const locales = join(cli.dir, 'locales.json');
      writeFileSync(locales, JSON.stringify({ fr: { notification: { title: 'Bonjour' } } }));
      const now = await run(['send', ...base, '--title', 'Hello', '--locales', locales, '--cap', '1/1d']);
      expect(now.stdout).toMatch(/^message \S+: sent 2, gone 0, failed 0\n$/);
      const again = await run(['send', ...base, '--title', 'Hello again', '--cap', '1/1d']);
      expect(again.stdout).toMatch(/^message \S+: sent 0, gone 0, failed 0, capped 2\n$/);
      expect((await service.received(fr.endpoint)).map((text) => JSON.parse(text).notification.title)).toEqual(['Bonjour']);
      expect((await service.received(de.endpoint)).map((text) => JSON.parse(text).notification.title)).toEqual(['Hello']);
    } finally {
      await service.close();
    }
  });
});
