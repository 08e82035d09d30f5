import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runIn } from './support/runIn.js';

interface Outcome {
  error?: { name: string; code?: string; message: string; package?: string; install?: string };
  value?: unknown;
}

// Calls each server feature and reports what it threw, as JSON, from inside the project.
const probe = `
const attempt = async (fn) => {
  try { return { value: await fn() }; }
  catch (e) { return { error: { name: e.name, code: e.code, message: e.message, package: e.details?.package, install: e.details?.install } }; }
};
const vapid = () => ({ ...generateVapidKeys(), subject: 'mailto:ops@example.com' });
const out = {
  sqliteStore: await attempt(() => { sqliteStore('push.db'); return 'opened'; }),
  createPushServer: await attempt(async () => {
    const push = createPushServer({ vapid: vapid(), store: memoryStore() });
    return (await push.handler(new Request('http://localhost/api/push/messages/unknown'))).status;
  }),
  startPushService: await attempt(async () => { const service = await startPushService(); await service.close(); return 'started'; }),
  metrics: await attempt(() => { createPushServer({ vapid: vapid(), store: memoryStore(), metrics: true }); return 'made'; }),
};
console.log(JSON.stringify(out));
`;
const esmProbe = `import { createPushServer, generateVapidKeys, memoryStore, sqliteStore } from 'tidings/server';
import { startPushService } from 'tidings/testing';
${probe}`;

describe('a page-only app: npm install tidings', () => {
  const app = inject('pageApp');

  it('gets tidings and idb, nothing else and nothing native', () => {
    console.log(`page-only install: ${app.packages.length} packages, ${(app.bytes / 1e6).toFixed(2)} MB, ${app.seconds.toFixed(1)} s`);
    expect(app.packages).toEqual(['idb', 'tidings']);
    expect(app.native).toEqual([]);
    expect(existsSync(join(app.dir, 'node_modules/better-sqlite3'))).toBe(false);
  });

  it('imports and requires every entry it may use without the server packages', () => {
    const loaded = runIn<Record<string, string[]>>(
      app.dir,
      'require-entries.cjs',
      `const names = (m) => Object.keys(m).sort();
console.log(JSON.stringify({ page: names(require('tidings')), server: names(require('tidings/server')), testing: names(require('tidings/testing')) }));`,
    );
    expect(loaded.page).toContain('createPushClient');
    expect(loaded.server).toEqual(expect.arrayContaining(['createPushServer', 'sqliteStore', 'memoryStore', 'TidingsError']));
    expect(loaded.testing).toContain('startPushService');
  });

  it("serves the dashboard's pages from inside the installed module (ESM and CommonJS), reading no file", () => {
    const serve = (load: string) => `${load}
const { handler } = createDashboard({ push: { send: async () => ({ id: 'x' }) }, authorize: () => 'ann', basePath: '/admin' });
const shell = await (await handler(new Request('http://localhost/admin/'))).text();
const assets = [...shell.matchAll(/"(\\/admin\\/assets\\/[^"]+)"/g)].map((m) => m[1]);
const answers = [];
for (const path of assets) {
  const response = await handler(new Request('http://localhost' + path));
  answers.push([path.replace(/\\.[\\w-]{12}\\./, '.HASH.'), response.status, (await response.text()).length > 100]);
}
console.log(JSON.stringify(answers));`;
    const expected = [
      ['/admin/assets/icon.HASH.svg', 200, true],
      ['/admin/assets/dashboard.HASH.css', 200, true],
      ['/admin/assets/dashboard.HASH.js', 200, true],
    ];
    expect(runIn(app.dir, 'dashboard.mjs', serve("import { createDashboard } from 'tidings/dashboard';"))).toEqual(expected);
    expect(runIn(app.dir, 'dashboard.cjs', `(async () => {${serve("const { createDashboard } = require('tidings/dashboard');")}})();`)).toEqual(expected);
  });

  it('names the missing package and its install command when a server feature needs it', () => {
    const out = runIn<Record<string, Outcome>>(app.dir, 'server-features.mjs', esmProbe);
    expect(out.sqliteStore?.error).toMatchObject({ name: 'TidingsError', code: 'missing-dependency', package: 'better-sqlite3', install: 'npm install better-sqlite3@12' });
    expect(out.sqliteStore?.error?.message).toContain('npm install better-sqlite3@12');
    expect(out.createPushServer?.error).toMatchObject({ code: 'missing-dependency', package: 'web-push', install: 'npm install web-push@3' });
    expect(out.startPushService?.error).toMatchObject({ code: 'missing-dependency', package: 'ws', install: 'npm install ws@8' });
    // The store failed before touching the disk.
    expect(readdirSync(app.dir).filter((file) => file.startsWith('push.db'))).toEqual([]);
  });

  it('tells a user running the demo which packages it needs', () => {
    const demo = spawnSync(join(app.dir, 'node_modules/.bin/tidings'), ['demo', '--port', '0', '--push-port', '0'], { cwd: app.dir, encoding: 'utf8', timeout: 30_000 });
    expect(demo.status).toBe(1);
    expect(demo.stderr).toContain('npm install better-sqlite3@12 web-push@3 ws@8');
  });
});

describe('a server app installed with --ignore-scripts', () => {
  const app = inject('serverApp');

  it('says the SQLite addon was never built, not that the file cannot be opened', () => {
    expect(app.packages).toEqual(expect.arrayContaining(['better-sqlite3', 'idb', 'tidings', 'web-push', 'ws']));
    expect(app.native).toEqual([]);
    const out = runIn<Record<string, Outcome>>(app.dir, 'server-features.mjs', esmProbe);
    expect(out.sqliteStore?.error).toMatchObject({ code: 'missing-dependency', package: 'better-sqlite3', install: 'npm rebuild better-sqlite3' });
    expect(out.sqliteStore?.error?.message).not.toContain('cannot open');
  });

  it('serves requests and runs the push service with the packages that are there', () => {
    const out = runIn<Record<string, Outcome>>(app.dir, 'server-features.mjs', esmProbe);
    expect(out.createPushServer).toEqual({ value: 404 });
    expect(out.startPushService).toEqual({ value: 'started' });
    // Metrics are the one server feature whose package this app did not install.
    expect(out.metrics?.error).toMatchObject({ name: 'TidingsError', code: 'missing-dependency', package: 'prom-client', install: 'npm install prom-client@15' });
  });
});
