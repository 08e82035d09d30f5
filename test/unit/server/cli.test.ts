import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys, sqliteStore } from '../../../src/server/index.js';
import { fromBase64Url } from '../../../src/shared/base64url.js';
import { startPushService } from '../../../src/testing/index.js';
import { makeCliScratch, type CliScratch } from '../../support/cliScratch.js';

// The CLI runs from a scratch copy of its transpiled sources (test/support/cliScratch.ts):
// no rollup build needed.
let cli: CliScratch;
let scratch: string;
let bin: string;

beforeAll(() => {
  cli = makeCliScratch();
  scratch = cli.dir;
  bin = cli.bin;
});
afterAll(() => cli.remove());

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

  it.each([
    ['a newline', 'mailto:ops@site.example\nVAPID_PRIVATE_KEY=attacker'],
    ['a carriage return', 'mailto:ops@site.example\rVAPID_PRIVATE_KEY=attacker'],
    ['a tab', 'mailto:ops@\tsite.example'],
    ['an escape', 'mailto:ops@site.example\u001b[2J'],
    ['a line separator', 'mailto:ops@site.example\u2028VAPID_PRIVATE_KEY=attacker'],
  ])('vapid refuses a subject with %s and writes nothing', async (_name, subject) => {
    const file = join(scratch, `subject-${Math.random().toString(36).slice(2)}.env`);
    writeFileSync(file, 'PORT=3000\n');
    const { code, stderr, stdout } = await run(['vapid', '--subject', subject, '--env', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe('tidings: --subject must not contain control characters (newlines, tabs, escapes)');
    expect(readFileSync(file, 'utf8')).toBe('PORT=3000\n');
  });

  it.each([
    ['leading spaces', '  VAPID_PRIVATE_KEY=old'],
    ['a tab', '\tVAPID_PRIVATE_KEY=old'],
    ['export', 'export VAPID_PRIVATE_KEY=old'],
    ['export and spaces around =', '  export   VAPID_PRIVATE_KEY = "old"'],
  ])('vapid --env finds existing keys written with %s, as the reader does', async (_name, line) => {
    const file = join(scratch, `guard-${Math.random().toString(36).slice(2)}.env`);
    const before = `PORT=3000\n${line}\nexport VAPID_PUBLIC_KEY=oldpublic\n`;
    writeFileSync(file, before);
    const refused = await run(['vapid', '--env', file, '--subject', 'mailto:ops@tidings.dev']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already has VAPID keys');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect((await run(['vapid', '--env', file, '--subject', 'mailto:ops@tidings.dev', '--force'])).code).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(after.match(/VAPID_PRIVATE_KEY/g)).toHaveLength(1);
    expect(after.match(/VAPID_PUBLIC_KEY/g)).toHaveLength(1);
    expect(after).not.toContain('old');
    expect(after).toMatch(/^PORT=3000\n/);
  });

  it.each([
    ['an =', 'VITE_KEY=VAPID_PRIVATE_KEY'],
    ['a newline', 'VITE_KEY\nVAPID_PRIVATE_KEY'],
    ['lower case', 'vite_vapid_public_key'],
    ['a leading digit', '1VAPID'],
    ['an empty name', ''],
  ])('vapid refuses a --public-env-name with %s and writes nothing', async (_name, name) => {
    const file = join(scratch, `name-${Math.random().toString(36).slice(2)}.env`);
    writeFileSync(file, 'PORT=3000\n');
    const { code, stderr, stdout } = await run(['vapid', '--public-env-name', name, '--env', file, '--subject', 'mailto:ops@tidings.dev']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toMatch(/^tidings: --public-env-name must be an upper-case name/);
    expect(readFileSync(file, 'utf8')).toBe('PORT=3000\n');
  });

  it.each(['VAPID_PRIVATE_KEY', 'VAPID_SUBJECT', 'VAPID_PUBLIC_KEY'])('vapid refuses --public-env-name %s, a key it writes itself', async (name) => {
    const { code, stderr } = await run(['vapid', '--public-env-name', name, '--subject', 'mailto:ops@tidings.dev']);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`tidings: --public-env-name must not be ${name}, which tidings writes itself`);
  });

  it('vapid --public-env-name writes the public key under that name too, guarded and replaced like the others', async () => {
    const file = join(scratch, 'bundler.env');
    writeFileSync(file, 'PORT=3000\nVITE_VAPID_PUBLIC_KEY=stale\n');
    const args = ['vapid', '--env', file, '--public-env-name', 'VITE_VAPID_PUBLIC_KEY', '--subject', 'mailto:ops@tidings.dev'];
    expect((await run(args)).code).toBe(0);
    const first = readFileSync(file, 'utf8');
    const publicKey = /^VAPID_PUBLIC_KEY=(.+)$/m.exec(first)![1];
    expect(first.match(/^VITE_VAPID_PUBLIC_KEY=.*$/gm)).toEqual([`VITE_VAPID_PUBLIC_KEY=${publicKey}`]);
    const refused = await run(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already has VAPID keys');
    expect(readFileSync(file, 'utf8')).toBe(first);
    expect((await run([...args, '--force'])).code).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(after.match(/^VITE_VAPID_PUBLIC_KEY=/gm)).toHaveLength(1);
    expect(after).toContain(`VITE_VAPID_PUBLIC_KEY=${/^VAPID_PUBLIC_KEY=(.+)$/m.exec(after)![1]}\n`);
    expect(after).not.toContain(publicKey);
    const printed = await run(['vapid', '--public-env-name', 'NEXT_PUBLIC_VAPID_PUBLIC_KEY', '--subject', 'mailto:ops@tidings.dev']);
    expect(printed.stdout).toMatch(/^VAPID_PUBLIC_KEY=(\S+)\n[^]*\nNEXT_PUBLIC_VAPID_PUBLIC_KEY=\1\n$/);
  });

  describe('vapid --env and git', () => {
    let outside: string;
    const git = (cwd: string, ...args: string[]) => {
      const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
    };
    const subject = ['--subject', 'mailto:ops@tidings.dev'];
    beforeAll(() => {
      outside = mkdtempSync(join(tmpdir(), 'tidings-cli-git-'));
    });
    afterAll(() => rmSync(outside, { recursive: true, force: true }));

    it('warns when the file is in a git work tree and not ignored', async () => {
      const repo = join(outside, 'repo');
      mkdirSync(repo);
      git(repo, 'init', '-q');
      const { code, stderr } = await run(['vapid', '--env', join(repo, '.env'), ...subject], { GIT_CEILING_DIRECTORIES: outside });
      expect(code).toBe(0);
      expect(stderr).toBe(
        `tidings: warning: ${join(repo, '.env')} is not ignored by git; its private key is one \`git add\` away from being committed. Add .env to .gitignore.\n`,
      );
    });

    it('says nothing when git ignores the file', async () => {
      const repo = join(outside, 'ignored');
      mkdirSync(join(repo, 'config'), { recursive: true });
      git(repo, 'init', '-q');
      writeFileSync(join(repo, '.gitignore'), '.env*\n');
      const { code, stderr } = await run(['vapid', '--env', join(repo, 'config/.env.local'), ...subject], { GIT_CEILING_DIRECTORIES: outside });
      expect(code).toBe(0);
      expect(stderr).toBe('');
    });

    it('says nothing outside a repository', async () => {
      const plain = join(outside, 'plain');
      mkdirSync(plain);
      const { code, stderr } = await run(['vapid', '--env', join(plain, '.env'), ...subject], { GIT_CEILING_DIRECTORIES: outside });
      expect(code).toBe(0);
      expect(stderr).toBe('');
    });
  });

  it('vapid --env refuses a symbolic link and leaves its target alone', async () => {
    const target = join(scratch, 'target.env');
    writeFileSync(target, 'SECRET=kept\n');
    const link = join(scratch, 'link.env');
    symlinkSync(target, link);
    const { code, stderr } = await run(['vapid', '--env', link, '--subject', 'mailto:ops@tidings.dev']);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`tidings: --env ${link} is a symbolic link; give the file it points to`);
    expect(readFileSync(target, 'utf8')).toBe('SECRET=kept\n');
  });

  it('vapid --env refuses a directory with a message, not a stack trace', async () => {
    const directory = join(scratch, 'env-dir');
    mkdirSync(directory, { recursive: true });
    const { code, stderr } = await run(['vapid', '--env', directory, '--subject', 'mailto:ops@tidings.dev']);
    expect(code).toBe(2);
    expect(stderr).toBe(`tidings: --env ${directory} is not a regular file\nRun "tidings help" for usage.\n`);
    const reading = await run(['send', '--store', directory, '--env', directory, '--title', 'x']);
    expect(reading.code).toBe(2);
    expect(reading.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [[], true],
    [['--subject', 'mailto:ops@example.org'], true],
    [['--subject', 'mailto:ops@mail.example.net'], true],
    [['--subject', 'https://localhost'], true],
    [['--subject', 'mailto:root@localhost'], true],
    [['--subject', 'mailto:ops@tidings.dev'], false],
    [['--subject', 'https://tidings.dev/contact'], false],
  ])('vapid %j warns of a placeholder subject Apple refuses: %s', async (args, warned) => {
    const { code, stderr, stdout } = await run(['vapid', ...args]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^VAPID_PUBLIC_KEY=/);
    if (warned) expect(stderr).toMatch(/^tidings: warning: .* is a placeholder; Apple's push service refuses such subjects \(403 BadJwtToken\)/);
    else expect(stderr).toBe('');
  });

  it('send prints what a push service answered without its control characters or escapes', async () => {
    const hostile = createServer((request, response) => {
      request.resume();
      response.writeHead(400).end('\u001b]0;owned\u0007\u001b[2Jbad key\r\nfailed 0000: (HTTP 201) fake line\u001b[0m');
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const keys = generateVapidKeys();
      const file = join(scratch, 'hostile.db');
      const store = sqliteStore(file);
      const { id } = await store.saveSubscription({
        subscription: { endpoint: `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/push`, expirationTime: null, keys: { p256dh: keys.publicKey, auth: 'AAAAAAAAAAAAAAAAAAAAAA' } },
      });
      await store.close();
      const envFile = join(scratch, 'hostile.env');
      writeFileSync(envFile, `  export VAPID_PUBLIC_KEY=${keys.publicKey}\nexport VAPID_PRIVATE_KEY='${keys.privateKey}'\nVAPID_SUBJECT = mailto:ops@tidings.dev\n`);
      const { code, stderr } = await run(['send', '--store', file, '--env', envFile, '--title', 'Hi', '--allow-loopback']);
      expect(code).toBe(1);
      expect(stderr).toBe(`failed ${id} (HTTP 400): bad key failed 0000: (HTTP 201) fake line\n`);
    } finally {
      hostile.closeAllConnections();
      await new Promise((resolve) => hostile.close(resolve));
    }
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

  it('send --attr keeps values as strings unless typed, and never reaches everyone with a key send() refuses', async () => {
    const service = await startPushService();
    try {
      const keys = generateVapidKeys();
      const file = join(scratch, 'audience.db');
      const store = sqliteStore(file);
      const people = { bond: { user: '007', team: 'red' }, seven: { user: 7, team: 'blue' }, answer: { user: '42', sports: true }, other: { user: 'x', team: 'green' } };
      const endpoints = new Map<string, string>();
      for (const [name, attributes] of Object.entries(people)) {
        const subscription = await service.subscribe(keys.publicKey);
        endpoints.set(name, subscription.endpoint);
        await store.saveSubscription({ subscription, attributes });
      }
      await store.close();
      const envFile = join(scratch, 'audience.env');
      writeFileSync(envFile, `VAPID_PUBLIC_KEY=${keys.publicKey}\nVAPID_PRIVATE_KEY=${keys.privateKey}\nVAPID_SUBJECT=mailto:a@b.c\n`);
      const reached = async () => {
        const names: string[] = [];
        for (const [name, endpoint] of endpoints) if ((await service.received(endpoint)).length > 0) names.push(name);
        return names.sort();
      };
      const send = (...flags: string[]) => run(['send', '--store', file, '--env', envFile, '--title', 'Hi', '--allow-loopback', ...flags]);

      for (const flags of [['--attr', '__proto__=nobody'], ['--attr', 'constructor=x'], ['--audience', '{"__proto__":{"user":"x"}}'], ['--audience', '{"attributes":{}}'], ['--audience', '{}'], ['--to', ''], ['--to', ',']]) {
        const { code, stderr } = await send(...flags);
        expect(code, flags.join(' ')).toBe(2);
        expect(stderr, flags.join(' ')).not.toMatch(/\n\s+at /);
        expect(await reached(), flags.join(' ')).toEqual([]);
      }
      expect((await send('--attr', '__proto__=nobody')).stderr).toContain('__proto__');

      const cases: [string[], string[]][] = [
        [['--attr', 'user=007'], ['bond']],
        [['--attr', 'user=42'], ['answer']],
        [['--attr', 'user:number=7'], ['seven']],
        [['--attr', 'sports:boolean=true'], ['answer']],
        [['--attr', 'team=red', '--attr', 'team=blue'], ['bond', 'seven']],
        [['--audience', '{"any":[{"attributes":{"sports":{"present":true}}},{"attributes":{"team":"green"}}]}'], ['answer', 'other']],
      ];
      for (const [flags, expected] of cases) {
        const { code, stdout, stderr } = await send(...flags);
        expect(stderr, flags.join(' ')).toBe('');
        expect(code, flags.join(' ')).toBe(0);
        expect(stdout).toContain(`sent ${expected.length},`);
        expect(await reached(), flags.join(' ')).toEqual(expected);
      }
      expect((await send('--attr', 'user:number=x')).code).toBe(2);
      expect((await send('--attr', 'vip:boolean=yes')).code).toBe(2);
    } finally {
      await service.close();
    }
  }, 60_000); // some twenty runs of the CLI, each a Node process: seconds on a loaded machine

  it('send reaches a local push service over https, trusting its CA through NODE_EXTRA_CA_CERTS', async () => {
    const service = await startPushService({ tls: true });
    try {
      const keys = generateVapidKeys();
      const file = join(scratch, 'tls.db');
      const store = sqliteStore(file);
      const subscription = await service.subscribe(keys.publicKey);
      expect(subscription.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:/);
      await store.saveSubscription({ subscription });
      await store.close();
      const caFile = join(scratch, 'push-ca.pem');
      writeFileSync(caFile, service.ca!);
      const env = { VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: 'mailto:ops@tidings.dev' };
      const untrusted = await run(['send', '--store', file, '--title', 'Hi', '--allow-loopback'], env);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/network: .*certificate/);
      const { code, stdout, stderr } = await run(['send', '--store', file, '--title', 'Hi', '--allow-loopback'], { ...env, NODE_EXTRA_CA_CERTS: caFile });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/sent 1, gone 0, failed 0/);
      expect(await service.received(subscription.endpoint)).toHaveLength(1);
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
