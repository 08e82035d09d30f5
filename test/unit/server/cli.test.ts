import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys, sqliteStore } from '../../../src/server/index.js';
import { fromBase64Url } from '../../../src/shared/base64url.js';
import { startPushService } from '../../../src/testing/index.js';

// The CLI imports ../dist/server.js and ../dist/testing.js. Rather than run the whole
// rollup build, the sources are transpiled file by file (well under a second) into a
// scratch copy inside node_modules/.cache, so dependencies still resolve, and small
// dist/ files re-export them beside a copy of bin/tidings.js.
const root = join(import.meta.dirname, '../../..');
let scratch: string;
let bin: string;

beforeAll(() => {
  mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
  scratch = mkdtempSync(join(root, 'node_modules/.cache/tidings-cli-'));
  for (const folder of ['src/server', 'src/testing', 'src/shared']) {
    for (const name of readdirSync(join(root, folder))) {
      if (!name.endsWith('.ts')) continue;
      const source = readFileSync(join(root, folder, name), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      });
      const file = join(scratch, 'out', folder, name.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, outputText);
    }
  }
  mkdirSync(join(scratch, 'dist'));
  writeFileSync(join(scratch, 'dist/server.js'), "export * from '../out/src/server/index.js';\n");
  writeFileSync(join(scratch, 'dist/testing.js'), "export * from '../out/src/testing/index.js';\n");
  writeFileSync(join(scratch, 'package.json'), '{"type":"module"}');
  mkdirSync(join(scratch, 'bin'));
  bin = join(scratch, 'bin/tidings.js');
  copyFileSync(join(root, 'bin/tidings.js'), bin);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}, until?: (stdout: string) => boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: scratch });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (until?.(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('tidings CLI', () => {
  it('prints usage for help', async () => {
    const { code, stdout } = await run(['help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: tidings <command>/);
    for (const command of ['vapid', 'send', 'push-service', 'demo']) expect(stdout).toContain(`  ${command}`);
  });

  it.each([
    [[], 'no command given'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['vapid', '--nope'], "Unknown option '--nope'"],
    [['vapid', '--subject', 'ops@example.com'], '--subject must be a mailto: or https: URI'],
    [['send', '--title', 'x'], 'send needs --store FILE.db'],
    [['push-service', '--port', 'eighty'], '--port must be a number'],
  ])('exits 2 with a one-line reason for %j', async (args, reason) => {
    const { code, stderr, stdout } = await run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toContain(reason);
  });

  it('vapid prints a key pair as .env lines', async () => {
    const { code, stdout } = await run(['vapid', '--subject', 'mailto:ops@site.example']);
    expect(code).toBe(0);
    const env = Object.fromEntries(stdout.trim().split('\n').map((line) => line.split('=') as [string, string]));
    expect(fromBase64Url(env.VAPID_PUBLIC_KEY!)).toHaveLength(65);
    expect(fromBase64Url(env.VAPID_PRIVATE_KEY!)).toHaveLength(32);
    expect(env.VAPID_SUBJECT).toBe('mailto:ops@site.example');
  });

  it('vapid --env writes a private file and will not replace keys without --force', async () => {
    const file = join(scratch, '.env');
    writeFileSync(file, 'PORT=3000\n');
    expect((await run(['vapid', '--env', file])).code).toBe(0);
    const first = readFileSync(file, 'utf8');
    expect(first).toMatch(/^PORT=3000\nVAPID_PUBLIC_KEY=.+\nVAPID_PRIVATE_KEY=.+\nVAPID_SUBJECT=mailto:/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const refused = await run(['vapid', '--env', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already has VAPID keys');
    expect(readFileSync(file, 'utf8')).toBe(first);
    expect((await run(['vapid', '--env', file, '--force'])).code).toBe(0);
    expect(readFileSync(file, 'utf8').match(/VAPID_PRIVATE_KEY/g)).toHaveLength(1);
  });

  it('send delivers a notification to the subscriptions in a store', async () => {
    const service = await startPushService();
    try {
      const keys = generateVapidKeys();
      const file = join(scratch, 'send.db');
      const store = sqliteStore(file);
      const en = await service.subscribe(keys.publicKey);
      const fr = await service.subscribe(keys.publicKey);
      await store.saveSubscription({ subscription: en, attributes: { lang: 'en' } });
      await store.saveSubscription({ subscription: fr, attributes: { lang: 'fr' } });
      await store.close();
      const envFile = join(scratch, 'send.env');
      writeFileSync(envFile, `VAPID_PUBLIC_KEY=${keys.publicKey}\nVAPID_PRIVATE_KEY=${keys.privateKey}\nVAPID_SUBJECT="mailto:a@b.c"\n`);
      const { code, stdout, stderr } = await run(['send', '--store', file, '--env', envFile, '--title', 'Hi', '--body', 'there', '--attr', 'lang=en', '--topic', 'hello', '--allow-loopback']);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^message \S+: sent 1, gone 0, failed 0\n$/);
      const [text] = await service.received(en.endpoint);
      expect(JSON.parse(text!)).toMatchObject({ v: 1, notification: { title: 'Hi', body: 'there' } });
      expect(await service.received(fr.endpoint)).toEqual([]);
      const missingKeys = await run(['send', '--store', file, '--title', 'Hi']);
      expect(missingKeys.code).toBe(2);
      expect(missingKeys.stderr).toContain('VAPID_PUBLIC_KEY');
    } finally {
      await service.close();
    }
  });

  it('push-service runs until signalled and prints its URLs and Firefox prefs', async () => {
    let url = '';
    const { code, stdout } = await run(['push-service'], {}, (out) => {
      const match = /Push service: (\S+)/.exec(out);
      if (match && out.includes('Ctrl-C')) url = match[1]!;
      return url !== '';
    });
    expect(code).toBe(0);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stdout).toContain(`user_pref("dom.push.serverURL", "ws://127.0.0.1:${url.split(':')[2]}/");`);
    expect(stdout).toContain('user_pref("alerts.useSystemBackend", false);');
  });

  it('demo refuses a bad port before starting anything', async () => {
    const { code, stderr } = await run(['demo', '--port', 'eighty']);
    expect(code).toBe(2);
    expect(stderr).toContain('--port must be a number');
  });
});
