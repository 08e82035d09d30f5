// `tidings demo`: the demo site, its backend and a local push service (demo/startDemo.mjs).
import type { PushService } from '../testing/index.js';
import { options } from './options.js';
import { portOption } from './portOption.js';
import { printUntilStopped } from './printUntilStopped.js';

/** What the CLI uses of demo/startDemo.mjs, a plain module without declarations. */
interface DemoModule {
  demoDefaults: { port: number; pushPort: number; dataDir: string };
  startDemo(options: { port: number; pushPort: number; dataDir: string }): Promise<{
    url: string;
    dashboardUrl: string;
    origin: string;
    dbFile: string;
    dataDir: string;
    profileDir: string;
    pushService: PushService;
    close(): Promise<void>;
  }>;
}

// Relative to where this code runs, dist/cli.js (the module is shipped beside dist/, in
// demo/). A computed URL, so rollup leaves the import alone instead of bundling the demo.
const demoModule = new URL('../demo/startDemo.mjs', import.meta.url).href;

export async function demo(args: string[]): Promise<number> {
  const values = options(args, {
    port: { type: 'string' },
    'push-port': { type: 'string' },
    'data-dir': { type: 'string' },
  });
  const port = portOption(values.port, '--port');
  const pushPort = portOption(values['push-port'], '--push-port');
  const { startDemo, demoDefaults } = (await import(demoModule)) as DemoModule;
  let demo: Awaited<ReturnType<DemoModule['startDemo']>>;
  try {
    demo = await startDemo({
      port: port ?? demoDefaults.port,
      pushPort: pushPort ?? demoDefaults.pushPort,
      dataDir: values['data-dir'] ?? demoDefaults.dataDir,
    });
  } catch (error) {
    // A page-only install has none of the server packages: name all the demo needs at
    // once, rather than one per attempt.
    if ((error as { code?: unknown } | undefined)?.code !== 'missing-dependency') throw error;
    process.stderr.write(`tidings: the demo runs a backend; install its packages first:\n  npm install better-sqlite3@12 web-push@3 ws@8\n(${(error as Error).message})\n`);
    return 1;
  }
  const lines = [
    'tidings demo is running.',
    '',
    `  Site:          ${demo.url}`,
    `  Backend:       ${demo.origin}/api/push (tidings/server, SQLite in ${demo.dbFile})`,
    `  Dashboard:     ${demo.dashboardUrl} (tidings/dashboard, for this machine's visitor)`,
    `  Funnels:       on the site, at /admin, or: tidings stats --store ${demo.dbFile}`,
    `  Push service:  ${demo.pushService.url} (WebSocket for Firefox: ${demo.pushService.webSocketUrl})`,
    `  Data:          ${demo.dataDir} (SQLite, VAPID keys, Firefox profile; delete it to start over)`,
    '',
    'Open it in Firefox pointed at the local push service (a profile with the prefs is ready):',
    `  firefox-esr --profile ${demo.profileDir} --no-remote ${demo.url}`,
    '',
    'Or set these prefs in about:config of a Firefox profile, then restart it:',
    ...Object.entries(demo.pushService.firefoxPrefs()).map(([name, value]) => `  ${name} = ${JSON.stringify(value)}`),
    '',
    'Chrome and Edge use their own push service, so they need internet access; see the README.',
    'Ctrl-C stops it.',
  ];
  await printUntilStopped(lines);
  await demo.close();
  process.stdout.write('tidings demo stopped.\n');
  return 0;
}
