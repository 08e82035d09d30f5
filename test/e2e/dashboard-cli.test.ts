import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushService } from '../../src/testing/index.js';
import { importBuilt } from '../support/importBuilt.js';

// `tidings dashboard` as built (bin/tidings.js -> dist/cli.js -> dist/dashboard.js), against
// a SQLite store with one subscriber at the local push service.
const bin = resolve(import.meta.dirname, '../../bin/tidings.js');
const { generateVapidKeys, sqliteStore } = await importBuilt<typeof import('../../src/server/index.js')>('server.js');
const { startPushService } = await importBuilt<typeof import('../../src/testing/index.js')>('testing.js');

interface Running {
  child: ChildProcess;
  url: string;
  output: string;
}

function start(args: string[], env: Record<string, string>): Promise<Running> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, 'dashboard', ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      const url = /tidings dashboard: (http:\/\/\S+)/.exec(output)?.[1];
      if (url && output.includes('Ctrl-C')) resolvePromise({ child, url, output });
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('tidings dashboard', () => {
  let dir: string;
  let pushService: PushService;
  let env: Record<string, string>;
  const running: Running[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-dashboard-cli-'));
    pushService = await startPushService();
    const vapid = { ...generateVapidKeys(), subject: 'mailto:cli@tidings.example' };
    const store = sqliteStore(join(dir, 'push.db'));
    await store.saveSubscription({ subscription: await pushService.subscribe(vapid.publicKey), attributes: { user: '42' } });
    await store.close();
    env = { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: vapid.subject };
  });
  afterAll(async () => {
    for (const { child } of running) child.kill('SIGTERM');
    await pushService?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is open to nobody: a Basic challenge without the token, a wrong one, or an empty user name', async () => {
    const run = await start(['--store', join(dir, 'push.db'), '--port', '0'], { ...env, TIDINGS_DASHBOARD_TOKEN: 'correct-horse-battery-staple' });
    running.push(run);
    expect(run.output).toContain('TIDINGS_DASHBOARD_TOKEN');
    expect(run.output).not.toContain('correct-horse');
    for (const headers of [{}, basic('ann', 'wrong'), basic('', 'correct-horse-battery-staple'), basic('ann', 'correct-horse-battery-stapl')]) {
      for (const path of ['', 'messages', 'api/overview']) {
        const response = await fetch(`${run.url}${path}`, { headers });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Basic realm="tidings dashboard", charset="UTF-8"');
      }
    }
    const shell = await fetch(run.url, { headers: basic('ann', 'correct-horse-battery-staple') });
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-security-policy')).toContain("default-src 'none'");
    const compose = (await (await fetch(`${run.url}api/compose`, { headers: basic('ann', 'correct-horse-battery-staple') })).json()) as { session: { viewer: string } };
    expect(compose.session.viewer).toBe('ann');
  });

  it('makes up a token when none is set, prints it, and sends with it (same-site JSON only)', async () => {
    const run = await start(['--store', join(dir, 'push.db'), '--port', '0', '--allow-loopback'], env);
    running.push(run);
    const token = /^ {2}([A-Za-z0-9_-]{24}) {4}\(made up for this run/m.exec(run.output)?.[1];
    expect(token).toBeDefined();
    const headers = { ...basic('bob', token!), 'content-type': 'application/json' };
    const body = JSON.stringify({ envelope: { v: 1, notification: { title: 'From the CLI' } }, to: null, confirm: null });
    expect((await fetch(`${run.url}api/send`, { method: 'POST', headers: { ...headers, 'sec-fetch-site': 'cross-site' }, body })).status).toBe(403);
    const sent = await fetch(`${run.url}api/send`, { method: 'POST', headers: { ...headers, origin: new URL(run.url).origin }, body });
    expect(await sent.json()).toMatchObject({ via: 'send', result: { sent: 1, gone: 0, failed: 0 } });
  });

  it('refuses a short token and a store that is not there', async () => {
    await expect(start(['--store', join(dir, 'push.db'), '--port', '0'], { ...env, TIDINGS_DASHBOARD_TOKEN: 'short' })).rejects.toThrow(/at least 16 characters/);
    await expect(start(['--store', join(dir, 'nope.db'), '--port', '0'], env)).rejects.toThrow(/does not exist/);
  });
});
