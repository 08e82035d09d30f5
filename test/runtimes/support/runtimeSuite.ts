import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type * as Server from '../../../src/server/index.js';
import type * as Testing from '../../../src/testing/index.js';
import type * as Postgres from '../../../src/postgres/index.js';
import type { PushService } from '../../../src/testing/index.js';
import { importBuilt } from '../../support/importBuilt.js';
import { postgresUrl, redisUrl, serviceAnswers } from '../../support/services.js';

/** What each runtime's app (fixtures/app.mjs) is told, as JSON. */
export interface RuntimeConfig {
  vapid: { publicKey: string; privateKey: string; subject: string };
  store: 'memory' | 'own' | 'postgres';
  postgresUrl?: string;
  schema?: string;
  transport?: 'node' | 'fetch';
  /** For POST /queue (workerd). */
  redisUrl?: string;
  queueName?: string;
}

export interface StartedRuntime {
  /** `http://127.0.0.1:PORT` of the app. */
  origin: string;
  /** What the runtime wrote, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export type StartRuntime = (config: RuntimeConfig) => Promise<StartedRuntime>;

/**
 * Spawns a runtime and waits for the line that says it listens (`ready`, the port its
 * first group: the fixtures print `listening PORT`). Fails with what it printed when it
 * exits first or takes too long.
 */
export function spawnServer(command: string, args: string[], env: Record<string, string>, ready = /listening (\d+)\n/): Promise<StartedRuntime> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => fail(new Error(`${command} did not start within 30 s:\n${output}`)), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const early = (code: number | null) => fail(new Error(`${command} exited (${code}) before listening:\n${output}`));
    child.once('exit', early);
    child.once('error', (error) => fail(error));
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({
        origin: `http://127.0.0.1:${match[1]}`,
        output: () => output,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
  });
}

/** Registers a subscription through the runtime's handler, as the page would (same-origin JSON POST). */
async function register(runtime: StartedRuntime, subscription: unknown): Promise<{ status: number; id: string }> {
  const response = await fetch(`${runtime.origin}/api/push/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ subscription }),
  });
  const text = await response.text();
  expect(response.status, `${text}\n${runtime.output()}`).toBe(201);
  return { status: response.status, id: (JSON.parse(text) as { id: string }).id };
}

/** Calls send() inside the runtime (the app's POST /send) and answers its SendResult. */
async function sendInRuntime(runtime: StartedRuntime, envelope: object): Promise<Record<string, unknown>> {
  const response = await fetch(`${runtime.origin}/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope }) });
  const text = await response.text();
  expect(response.status, `${text}\n${runtime.output()}`).toBe(200);
  return JSON.parse(text) as Record<string, unknown>;
}

export interface RuntimeSuiteOptions {
  /** The user agent the runtime must report, so the test knows it ran there and not in Node. */
  userAgent: RegExp;
  /** Whether postgresStore is tested here (TIDINGS_TEST_POSTGRES_URL must be set, or the test fails in CI). */
  postgres: boolean;
  /** How to run a script file there (`[bun]`, `[deno, 'run', …]`), to test the CLI and the queue; none where there is no CLI. */
  script?: string[];
}

/**
 * The register-and-send test every runtime passes, once per store: the local push service
 * runs in Node on loopback; the runtime serves tidings' handler (built dist) and calls
 * send(); the push service must have the push, and it must decrypt to the envelope sent.
 */
export function runtimeSuite(name: string, start: StartRuntime, { userAgent, postgres, script }: RuntimeSuiteOptions): void {
  describe(`tidings/server in ${name}`, () => {
    let vapid: RuntimeConfig['vapid'];
    let service: PushService;
    let runtime: StartedRuntime | undefined;
    beforeAll(async () => {
      // What ships: the built entries, as the runtime imports them too.
      const { generateVapidKeys } = await importBuilt<typeof Server>('server.js');
      const { startPushService } = await importBuilt<typeof Testing>('testing.js');
      vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
      service = await startPushService();
    });
    afterAll(() => service.close());
    afterEach(async () => {
      await runtime?.stop();
      runtime = undefined;
    });

    const stores: [string, RuntimeConfig['store'], () => Partial<RuntimeConfig>][] = [
      ['memoryStore', 'memory', () => ({})],
      ['a store the site provides', 'own', () => ({})],
    ];
    // A fresh schema per run: the database keeps what earlier runs left.
    if (postgres) stores.push(['postgresStore', 'postgres', () => ({ postgresUrl, schema: `runtime_${name.toLowerCase()}_${randomBytes(4).toString('hex')}` })]);

    it.each(stores)('registers through the handler and send() reaches the local push service, which decrypts it (%s)', async (_label, store, extra) => {
      if (store === 'postgres' && !(await serviceAnswers('PostgreSQL', postgresUrl))) return;
      runtime = await start({ vapid, store, ...extra() });
      // The app answers in the runtime's own name, so the test knows it ran there and not in Node.
      expect(await (await fetch(`${runtime.origin}/runtime`)).text()).toMatch(userAgent);
      const subscriptions = [await service.subscribe(vapid.publicKey), await service.subscribe(vapid.publicKey)];
      const ids = [];
      for (const subscription of subscriptions) ids.push((await register(runtime, subscription)).id);
      expect(new Set(ids).size).toBe(2);
      const envelope = { v: 1, id: `m-${store}`, notification: { title: `Hello from ${name}`, body: 'ünïcödé ✓' } };
      const result = await sendInRuntime(runtime, envelope);
      expect(result).toMatchObject({ id: envelope.id, sent: 2, gone: 0, failed: 0, errors: [] });
      for (const { endpoint } of subscriptions) {
        // A send whose id the caller chose is marked as one that may have gone out before (markRetry).
        expect((await service.received(endpoint)).map((text) => JSON.parse(text))).toEqual([{ ...envelope, retry: true }]);
      }
    });
  
    it('serves the dashboard (tidings/dashboard): its page and its data', async () => {
      runtime = await start({ vapid, store: 'memory' });
      const page = await fetch(`${runtime.origin}/dash/`);
      expect(page.status, runtime.output()).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await page.text()).toContain('<!doctype html>');
      const subscription = await service.subscribe(vapid.publicKey);
      await register(runtime, subscription);
      const overview = await fetch(`${runtime.origin}/dash/api/overview`);
      expect(overview.status, runtime.output()).toBe(200);
      expect(await overview.json()).toMatchObject({ session: { viewer: 'ops' } });
      const audience = (await (await fetch(`${runtime.origin}/dash/api/audience`)).json()) as { data: unknown };
      expect(JSON.stringify(audience)).toContain('"total":1');
    });

    if (script) {
      it("calls the lookup node:http and node:tls are given, which tidings' Node transport checks every address with", async () => {
        const probe = fileURLToPath(new URL('../fixtures/lookupHook.mjs', import.meta.url));
        const answer = JSON.parse(await run([...script, probe])) as Record<string, unknown>;
        expect(answer).toEqual({ viaHttp: 'refused by lookup', viaTls: 'refused by lookup', looked: 2, reached: 0 });
      });

      it('runs the CLI: tidings vapid, and tidings send --redis queueing a send that tidings sender delivers (BullMQ, postgresStore)', async () => {
        if (!(await serviceAnswers('PostgreSQL', postgresUrl)) || !(await serviceAnswers('Redis', redisUrl))) return;
        const cli = fileURLToPath(new URL('../../../bin/tidings.js', import.meta.url));
        const keys = await run([...script, cli, 'vapid', '--subject', 'mailto:ops@site.example']);
        const env = Object.fromEntries([...keys.matchAll(/^(VAPID_[A-Z_]+)=(.*)$/gm)].map(([, key, value]) => [key!, value!]));
        expect(Object.keys(env).sort()).toEqual(['VAPID_PRIVATE_KEY', 'VAPID_PUBLIC_KEY', 'VAPID_SUBJECT']);
        // The CLI's keys are a pair: the server checks the public key against the private one.
        const { createPushServer, memoryStore } = await importBuilt<typeof Server>('server.js');
        const cliVapid = { publicKey: env.VAPID_PUBLIC_KEY!, privateKey: env.VAPID_PRIVATE_KEY!, subject: env.VAPID_SUBJECT! };
        expect(() => createPushServer({ vapid: cliVapid, store: memoryStore() })).not.toThrow();

        const { postgresStore } = await importBuilt<typeof Postgres>('postgres.js');
        const schema = `runtime_cli_${name.toLowerCase()}_${randomBytes(4).toString('hex')}`;
        const store = postgresStore({ connectionString: postgresUrl, schema });
        const subscription = await service.subscribe(cliVapid.publicKey);
        await store.saveSubscription({ subscription });
        await store.close();
        const where = ['--redis', redisUrl, '--store', postgresUrl, '--schema', schema, '--queue', schema, '--allow-loopback'];
        const sender = spawn(script[0]!, [...script.slice(1), cli, 'sender', ...where], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let senderOutput = '';
        sender.stdout!.on('data', (chunk: Buffer) => (senderOutput += chunk));
        sender.stderr!.on('data', (chunk: Buffer) => (senderOutput += chunk));
        const senderExit = new Promise<number | null>((done) => sender.once('exit', (code) => done(code)));
        try {
          await run([...script, cli, 'send', ...where, '--title', `Queued in ${name}`], env);
          expect((await service.received(subscription.endpoint)).map((text) => JSON.parse(text)), senderOutput).toMatchObject([{ notification: { title: `Queued in ${name}` } }]);
        } finally {
          sender.kill('SIGTERM');
        }
        // SIGTERM: the sender finishes what it holds and exits 0.
        expect(await senderExit, senderOutput).toBe(0);
      });
    }
  });
}

/** Runs a command to its end; its output, or a failure with it. */
function run(command: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command.join(' ')} exited ${code}:\n${output}`));
    });
  });
}
