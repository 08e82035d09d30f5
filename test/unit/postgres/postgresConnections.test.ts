import { spawn, type ChildProcess } from 'node:child_process';
import { createECDH } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../../src/postgres/index.js';
import { toBase64Url } from '../../../src/shared/base64url.js';
import { makeCliScratch, type CliScratch } from '../../support/cliScratch.js';
import { freshName, postgresUrl, serviceAnswers } from '../../support/services.js';

// A database restart, a failover or an idle timeout drops the store's connections. pg
// emits a dropped idle connection as an 'error' event, which ends a process that does not
// listen: here the store runs in a child process (the handler on node:http over
// postgresStore, from the transpiled sources), its connections are killed with
// pg_terminate_backend, idle and under load, and the child must live and answer again.
const up = await serviceAnswers('PostgreSQL', postgresUrl);
const admin = new pg.Pool({ connectionString: postgresUrl, max: 3 });
admin.on('error', () => {});
const schemas: string[] = [];
afterAll(async () => {
  if (up) for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});
const fresh = () => (schemas.push(freshName('tidings_conn')), schemas.at(-1)!);
/** The store's connections are the ones with this application_name. */
const urlFor = (app: string) => `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}application_name=${app}`;

async function terminate(app: string, where = 'true'): Promise<number> {
  const { rows } = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND ${where}`, [app]);
  return rows.filter((row) => row.ok).length;
}
async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const connections = async (app: string, where = 'true') =>
  Number((await admin.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND ${where}`, [app])).rows[0].n);

const child = `
import { createServer } from 'node:http';
import { postgresStore } from '../out/src/postgres/index.js';
import { createPushServer, generateVapidKeys, toNodeHandler } from '../out/src/server/index.js';
const [url, schema] = process.argv.slice(2);
const store = postgresStore({ connectionString: url, schema });
const push = createPushServer({
  vapid: { ...generateVapidKeys(), subject: 'mailto:ops@site.example' },
  store,
  eventsPerMinute: false,
  registrationsPerMinute: false,
  onError: (error) => console.error('handler 500:', error.message),
});
const server = createServer(toNodeHandler(push.handler));
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

describe.runIf(up)('postgresStore survives its connections', () => {
  let cli: CliScratch;
  beforeAll(() => {
    cli = makeCliScratch();
    writeFileSync(join(cli.dir, 'dist/pgChild.mjs'), child);
  });
  afterAll(() => cli?.remove());

  async function startChild(app: string): Promise<{ proc: ChildProcess; origin: string; stderr: () => string }> {
    const proc = spawn(process.execPath, [join(cli.dir, 'dist/pgChild.mjs'), urlFor(app), fresh()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (chunk: Buffer) => (err += chunk));
    const port = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        const match = /port (\d+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
    return { proc, origin: `http://127.0.0.1:${port}`, stderr: () => err };
  }
  const post = (origin: string, path: string, body: unknown) =>
    fetch(`${origin}/api/push${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const register = (origin: string, n: number) =>
    post(origin, '/subscriptions', {
      subscription: {
        endpoint: `https://fcm.googleapis.com/fcm/send/conn-${n}`,
        expirationTime: null,
        keys: { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: toBase64Url(new Uint8Array(16).fill(n % 256)) },
      },
    });
  let eventSeq = 0;
  const events = (origin: string) => post(origin, '/events', { events: [{ id: `e${eventSeq++}`, type: 'shown', at: Date.now() }] });

  it('idle: killing every connection three times over leaves the process alive, and the next requests succeed', async () => {
    const app = freshName('tconn');
    const { proc, origin, stderr } = await startChild(app);
    try {
      for (let round = 0; round < 3; round++) {
        expect((await register(origin, round)).status).toBe(201);
        expect((await events(origin)).status).toBe(202);
        await until(async () => (await connections(app, "state = 'idle'")) > 0);
        expect(await terminate(app)).toBeGreaterThan(0);
        // pg hears of it when the socket closes; the pool drops the connection and says so.
        await until(async () => (stderr().match(/an idle connection dropped/g) ?? []).length > round);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(proc.exitCode).toBeNull();
        expect((await events(origin)).status).toBe(202);
      }
      expect(stderr()).not.toMatch(/Emitted 'error' event|handler 500/);
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('under load: connections killed mid-requests fail only the requests they carried, and nothing after', async () => {
    const app = freshName('tconn');
    const { proc, origin, stderr } = await startChild(app);
    try {
      const statuses = new Map<number, number>();
      let running = true;
      let n = 1000;
      const loop = async () => {
        while (running) {
          const response = await (n % 2 ? register(origin, n++) : (n++, events(origin)));
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      };
      const loops = Array.from({ length: 8 }, loop);
      let killed = 0;
      // Each round waits for requests to go through (not for a time: a loaded machine is slow), then kills.
      const succeeded = () => (statuses.get(201) ?? 0) + (statuses.get(202) ?? 0);
      for (let round = 0; round < 4; round++) {
        const before = succeeded();
        await until(async () => succeeded() >= before + 8, 30_000);
        killed += await terminate(app);
      }
      running = false;
      await Promise.all(loops);
      expect(killed).toBeGreaterThan(4);
      expect(proc.exitCode).toBeNull();
      // 2xx, or a 500 for a request whose statement was on a killed connection.
      expect([...statuses.keys()].every((status) => [200, 201, 202, 500].includes(status))).toBe(true);
      expect((statuses.get(201) ?? 0) + (statuses.get(202) ?? 0)).toBeGreaterThan(20);
      // Each 500 was reported to onError (the child's stderr may trail its answers a little).
      const errors = () => stderr().match(/handler 500: .*/g) ?? [];
      await until(async () => errors().length >= (statuses.get(500) ?? 0));
      expect(errors().length).toBe(statuses.get(500) ?? 0);
      for (const line of errors()) expect(line).toMatch(/store-failed/);
      // Once the dead connections are noticed, every request succeeds again.
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 20; i++) {
        expect((await register(origin, 5000 + i)).status).toBe(201);
        expect((await events(origin)).status).toBe(202);
      }
      expect(proc.exitCode).toBeNull();
      console.log(`connections killed under load: ${killed} over 4 rounds, answers ${JSON.stringify(Object.fromEntries(statuses))}`);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

describe.runIf(up)('postgresStore: a connection killed in the middle of a call', () => {
  it('under the schema-creating first connection: that call is store-failed, the next one makes the tables', async () => {
    const app = freshName('tconn');
    const schema = fresh();
    const store = postgresStore({ connectionString: urlFor(app), schema, onError: () => {} });
    // Hold the schema's advisory lock, so the store's first connection waits inside its transaction.
    const holder = await admin.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [`tidings:${schema}`]);
      // Its rejection is heard from the start: it may come before terminate() returns.
      const first = store.getSubscription('x');
      first.catch(() => {});
      await until(async () => (await connections(app, "wait_event_type = 'Lock'")) > 0);
      expect(await terminate(app)).toBe(1);
      await expect(first).rejects.toMatchObject({ code: 'store-failed', message: expect.stringContaining('cannot create the tables') });
      await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [`tidings:${schema}`]);
    } finally {
      holder.release();
    }
    expect(await store.getSubscription('x')).toBeUndefined();
    expect((await store.addEvents([{ id: 'a', type: 'shown', at: 1 }]))).toBe(1);
    await store.close();
  });

  it('under a statement in flight: that call is store-failed, the next one runs on a new connection', async () => {
    const app = freshName('tconn');
    const schema = fresh();
    const store = postgresStore({ connectionString: urlFor(app), schema, onError: () => {} });
    await store.addEvents([{ id: 'a', type: 'shown', at: 1 }]);
    const locker = await admin.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${schema}".events IN ACCESS EXCLUSIVE MODE`);
      const blocked = store.listEvents();
      blocked.catch(() => {});
      await until(async () => (await connections(app, "wait_event_type = 'Lock'")) > 0);
      expect(await terminate(app, "wait_event_type = 'Lock'")).toBe(1);
      await expect(blocked).rejects.toMatchObject({ code: 'store-failed', message: expect.stringContaining('PostgreSQL') });
      await locker.query('ROLLBACK');
    } finally {
      locker.release();
    }
    expect(await store.listEvents()).toEqual([{ id: 'a', type: 'shown', at: 1 }]);
    await store.close();
  });

  it("leaves a site's own pool's errors to the site, and says so when the pool has no listener", async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
    const reported: Error[] = [];
    const store = postgresStore({ pool, schema: fresh(), onError: (error) => reported.push(error) });
    await store.getSubscription('x');
    expect(pool.listenerCount('error')).toBe(0);
    expect(reported).toEqual([expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'pool' }) })]);
    await store.close();
    await pool.end();
  });
});
