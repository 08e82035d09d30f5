import { createServer, type Server } from 'node:http';
import type { DashboardOptions, DashboardPush, DashboardQueue } from '../../../src/dashboard/index.js';
import type { PushStats } from '../../../src/dashboard/statsContract.js';
import type { PushService } from '../../../src/testing/index.js';
import { importBuilt } from '../../support/importBuilt.js';

/** The built library, as a site imports it: what ships is what the browser tests drive. */
const dist = async () => ({
  server: await importBuilt<typeof import('../../../src/server/index.js')>('server.js'),
  dashboard: await importBuilt<typeof import('../../../src/dashboard/index.js')>('dashboard.js'),
  testing: await importBuilt<typeof import('../../../src/testing/index.js')>('testing.js'),
});

/** The session cookie the test "logs in" with; authorize reads it as a site would read its own. */
export const SESSION = 'dashboard-session';

export interface DashboardSite {
  origin: string;
  url: string;
  push: DashboardPush;
  pushService: PushService;
  close(): Promise<void>;
}

/**
 * A site on loopback with the dashboard from dist/ at /admin (through toNodeHandler, as an
 * Express or node:http app mounts it) beside the push routes. The viewer is the name in
 * the session cookie (`viewers` maps it to a viewer, e.g. with a test audience); without
 * the cookie authorize says null (401).
 */
export async function startDashboardSite(options: {
  stats?: PushStats;
  subscribers?: Record<string, string>[];
  /** Writes into the site's store before the dashboard reads it (test/support/dashboard/sampleMonth.ts). */
  seed?: (store: import('../../../src/server/index.js').SubscriptionStore) => Promise<unknown>;
  viewers?: Record<string, { name: string; audience?: { attributes: Record<string, string> } }>;
  queue?: (parts: { store: unknown; vapid: unknown }) => DashboardQueue;
  extend?: (push: DashboardPush, store: import('../../../src/server/index.js').SubscriptionStore) => DashboardPush;
  dashboard?: Partial<DashboardOptions>;
}): Promise<DashboardSite> {
  const { server: tidings, dashboard: dash, testing } = await dist();
  const pushService = await testing.startPushService();
  const vapid = { ...tidings.generateVapidKeys(), subject: 'mailto:dashboard@tidings.example' };
  const store = tidings.memoryStore();
  for (const attributes of options.subscribers ?? []) await store.saveSubscription({ subscription: await pushService.subscribe(vapid.publicKey), attributes });
  await options.seed?.(store);
  const base = tidings.createPushServer({ vapid, store, allowLoopbackEndpoints: true }) as ReturnType<typeof tidings.createPushServer> & DashboardPush;
  let push: DashboardPush = options.stats ? Object.assign(base, { stats: options.stats }) : base;
  if (options.extend) push = options.extend(push, store);
  const viewers = options.viewers ?? { ann: { name: 'Ann' } };
  const dashboard = dash.createDashboard({
    push,
    ...(options.queue ? { queue: options.queue({ store, vapid }) } : {}),
    basePath: '/admin',
    authorize: (request) => {
      const session = new RegExp(`(?:^|; )${SESSION}=([a-z]+)`).exec(request.headers.get('cookie') ?? '')?.[1];
      return (session && viewers[session]) || null;
    },
    ...options.dashboard,
  });
  const admin = tidings.toNodeHandler(dashboard.handler);
  const api = tidings.toNodeHandler(base.handler);
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/admin')) return void admin(req, res);
    if (req.url?.startsWith('/api/push/')) return void api(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}/admin`,
    push,
    pushService,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pushService.close();
      await store.close();
    },
  };
}
