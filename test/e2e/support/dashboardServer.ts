import type { IncomingMessage } from 'node:http';
import type { DashboardOptions, DashboardQueue } from '../../../src/dashboard/index.js';
import type { PushServer, PushServerOptions, SubscriptionStore } from '../../../src/server/index.js';
import type { PushService } from '../../../src/testing/index.js';
import { importBuilt } from '../../support/importBuilt.js';
import { startStaticServer } from './staticServer.js';

/** The built library, as a site imports it: what ships is what the browser tests drive. */
export const dist = async () => ({
  server: await importBuilt<typeof import('../../../src/server/index.js')>('server.js'),
  dashboard: await importBuilt<typeof import('../../../src/dashboard/index.js')>('dashboard.js'),
  testing: await importBuilt<typeof import('../../../src/testing/index.js')>('testing.js'),
});

/** The session cookie the site's login sets; authorize reads it as a site reads its own. */
export const SESSION = 'dashboard-session';

export interface DashboardSite {
  origin: string;
  /** The dashboard: `${origin}/admin`. */
  url: string;
  push: PushServer;
  store: SubscriptionStore;
  vapid: { publicKey: string; privateKey: string; subject: string };
  pushService: PushService;
  close(): Promise<void>;
}

type Viewers = Record<string, { name: string; audience?: { attributes: Record<string, string> } }>;

/**
 * A site on loopback built from dist/: the test pages of test/e2e/fixtures and the bundles
 * (so a real browser can subscribe there), the push routes at /api/push, a login form at
 * /login, and the dashboard at /admin (through toNodeHandler, as an Express or node:http
 * app mounts it). authorize reads the session cookie the login set: a page asked for
 * without it is sent to /login (a site's own redirect, a Response), anything else is 401.
 * `viewers` maps a session to whom it names (default: `ann` is Ann).
 */
export async function startDashboardSite(
  options: {
    /** The store (default: memoryStore()). */
    store?: (server: Awaited<ReturnType<typeof dist>>['server']) => SubscriptionStore;
    /** More createPushServer options (clientAttributes, identify, retries…). */
    pushOptions?: Partial<PushServerOptions>;
    /** Subscriptions at the local push service, with these attributes. */
    subscribers?: Record<string, string>[];
    /** Writes into the site's store before the dashboard reads it (test/support/dashboard/sampleMonth.ts). */
    seed?: (store: SubscriptionStore) => Promise<unknown>;
    viewers?: Viewers;
    queue?: (parts: { store: SubscriptionStore; vapid: DashboardSite['vapid'] }) => Promise<DashboardQueue> | DashboardQueue;
    dashboard?: Partial<DashboardOptions>;
  } = {},
): Promise<DashboardSite & { queue?: DashboardQueue }> {
  const { server: tidings, dashboard: dash, testing } = await dist();
  const pushService = await testing.startPushService();
  const vapid = { ...tidings.generateVapidKeys(), subject: 'mailto:dashboard@tidings.example' };
  const store = options.store?.(tidings) ?? tidings.memoryStore();
  for (const attributes of options.subscribers ?? []) await store.saveSubscription({ subscription: await pushService.subscribe(vapid.publicKey), attributes });
  await options.seed?.(store);
  const push = tidings.createPushServer({ vapid, store, allowLoopbackEndpoints: true, ...options.pushOptions });
  const queue = await options.queue?.({ store, vapid });
  const viewers = options.viewers ?? { ann: { name: 'Ann' } };
  const sessionOf = (request: Request) => new RegExp(`(?:^|; )${SESSION}=([a-z]+)`).exec(request.headers.get('cookie') ?? '')?.[1];
  const dashboard = dash.createDashboard({
    push,
    ...(queue ? { queue } : {}),
    basePath: '/admin',
    authorize: (request, { kind }) => {
      const viewer = viewers[sessionOf(request) ?? ''];
      if (viewer) return viewer;
      if (kind !== 'page') return null;
      const url = new URL(request.url);
      return new Response(null, { status: 303, headers: { location: `/login?next=${encodeURIComponent(url.pathname + url.search)}` } });
    },
    ...options.dashboard,
  });
  const admin = tidings.toNodeHandler(dashboard.handler);
  const api = tidings.toNodeHandler(push.handler);
  const site = await startStaticServer();
  site.route(async (req, res, url) => {
    if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) await admin(req, res);
    else if (url.pathname.startsWith('/api/push/')) await api(req, res);
    else if (url.pathname === '/login' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(url.searchParams.get('next') ?? '/admin'));
    } else if (url.pathname === '/login' && req.method === 'POST') {
      const form = new URLSearchParams(await text(req));
      const session = form.get('session') ?? '';
      const next = form.get('next') ?? '/admin';
      if (!viewers[session] || !next.startsWith('/admin')) res.writeHead(403, { 'content-type': 'text/plain' }).end('no such user');
      else res.writeHead(303, { 'set-cookie': `${SESSION}=${session}; Path=/; HttpOnly; SameSite=Lax`, location: next }).end();
    } else return false;
    return true;
  });
  return {
    origin: site.origin,
    url: `${site.origin}/admin`,
    push,
    store,
    vapid,
    pushService,
    ...(queue ? { queue } : {}),
    async close() {
      await site.close();
      await pushService.close();
      await push.close();
      await store.close();
    },
  };
}

/** The site's own sign-in form (no script): the session it names becomes the cookie. */
function loginPage(next: string): string {
  const attribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html><html lang="en"><title>Sign in</title><h1>Sign in</h1>
<form method="post" action="/login"><input type="hidden" name="next" value="${attribute(next)}">
<label>User <input name="session" autocomplete="username"></label> <button>Sign in</button></form></html>`;
}

async function text(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}
