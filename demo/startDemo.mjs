// The demo: a local push service, a backend on tidings/server with SQLite, and a static
// site, all on loopback. `npm run demo` (or `npx tidings demo`) runs it; the end-to-end
// tests start it the same way.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const publicDir = join(here, 'public');
const distDir = resolve(here, '../dist');

/**
 * What the demo uses unless told otherwise. Ports are stable, so a Firefox profile keeps
 * working. The data (SQLite, VAPID keys with the private one, a Firefox profile) goes under
 * the directory the demo is started from, never beside this file: installed, that is
 * node_modules/tidings, which a package manager may make read-only and replaces at will.
 */
export const demoDefaults = { host: '127.0.0.1', port: 4800, pushPort: 4801, dataDir: '.tidings-demo' };

const contentTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
};

// The demo page runs under the strict CSP tidings promises to work with.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'";

/**
 * Starts the demo. Options: `port` (site), `pushPort` (push service; 0 for any), `dataDir`
 * (SQLite file, VAPID keys and a ready Firefox profile). Resolves once everything listens.
 */
export async function startDemo(options = {}) {
  const { host, port, pushPort } = { ...demoDefaults, ...options };
  // Relative to the current directory at start, not at import.
  const dataDir = resolve(options.dataDir ?? demoDefaults.dataDir);
  for (const file of ['tidings.iife.js', 'tidings-worker.iife.js', 'server.js', 'testing.js', 'dashboard.js']) {
    if (!existsSync(join(distDir, file))) throw new Error(`dist/${file} is missing: run npm run build first`);
  }
  const { createPushServer, sqliteStore, toNodeHandler, generateVapidKeys } = await import('../dist/server.js');
  const { startPushService } = await import('../dist/testing.js');
  const { createDashboard } = await import('../dist/dashboard.js');

  mkdirSync(dataDir, { recursive: true });
  const vapid = loadVapidKeys(join(dataDir, 'vapid.json'), generateVapidKeys);
  const dbFile = join(dataDir, 'tidings.db');
  const store = sqliteStore(dbFile);
  const pushService = await startPushService({ port: pushPort });
  // The demo's browsers subscribe at the local push service, on loopback. Who a visitor
  // is comes from the demo's own session cookie, as a site's login would say it, never
  // from what the page sends.
  const push = createPushServer({
    vapid,
    store,
    basePath: '/api/push',
    allowLoopbackEndpoints: true,
    identify: (request) => {
      const visitor = visitorOf(request.headers.get('cookie'));
      return visitor ? { visitor } : null;
    },
  });
  const api = toNodeHandler(push.handler);
  // The dashboard at /admin, for the visitor at this machine only: the demo listens on
  // loopback, and authorize checks the peer address as well as the session cookie. The
  // visitor's own subscriptions are their test audience.
  const dashboard = createDashboard({
    push,
    basePath: '/admin',
    authorize: (request, { info }) => {
      const visitor = visitorOf(request.headers.get('cookie'));
      if (!visitor || !isLoopback(info.clientAddress)) return null;
      return { name: demoSender(visitor), audience: { attributes: { visitor } } };
    },
  });
  const admin = toNodeHandler(dashboard.handler);

  const site = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    try {
      if (url.pathname.startsWith('/api/push/')) return await api(req, res);
      if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) {
        // A first visit to the dashboard gets the demo's session, then comes back with it.
        if (!visitorOf(req.headers.cookie) && req.method === 'GET') {
          res.writeHead(303, { 'set-cookie': newSessionCookie(), location: url.pathname + url.search, 'cache-control': 'no-store' });
          return res.end();
        }
        return await admin(req, res);
      }
      if (url.pathname === '/demo/config') return json(res, 200, { vapidPublicKey: vapid.publicKey });
      if (url.pathname === '/demo/send' && req.method === 'POST') {
        const visitor = visitorOf(req.headers.cookie);
        if (!visitor) return json(res, 401, { error: 'no demo session: reload the page' });
        return json(res, 200, await send(push, visitor, await body(req)));
      }
      if (url.pathname === '/demo/events') return json(res, 200, { events: await store.listEvents({ limit: 50 }) });
      // The funnel of what this visitor sent (push.stats: the send log and the signed events).
      if (url.pathname === '/demo/funnel') {
        const visitor = visitorOf(req.headers.cookie);
        const { items } = await push.stats.messages({ limit: 100 });
        return json(res, 200, { sends: items.filter((item) => visitor && item.by === demoSender(visitor)).slice(0, 10) });
      }
      // The demo's "login": each browser gets a random visitor id in an HttpOnly cookie.
      if (!visitorOf(req.headers.cookie)) {
        res.setHeader('set-cookie', newSessionCookie());
      }
      return await serveFile(res, url.pathname);
    } catch (error) {
      return json(res, error.status ?? 500, { error: error.expose ? error.message : 'demo server error' });
    }
  });
  await new Promise((done, fail) => {
    site.once('error', fail);
    site.listen(port, host, done);
  });
  const origin = `http://${host}:${site.address().port}`;
  const profileDir = writeFirefoxProfile(join(dataDir, 'firefox-profile'), pushService.firefoxPrefs());

  return {
    url: `${origin}/`,
    dashboardUrl: `${origin}/admin`,
    origin,
    pushService,
    push,
    store,
    dataDir,
    dbFile,
    vapid,
    profileDir,
    async close() {
      site.closeAllConnections();
      await new Promise((done) => site.close(done));
      await pushService.close();
      await store.close();
    },
  };
}

const sessionCookie = 'tidings-demo-visitor';

function newSessionCookie() {
  return `${sessionCookie}=${randomBytes(16).toString('base64url')}; Path=/; HttpOnly; SameSite=Lax`;
}

/** 127.0.0.0/8 and ::1, in the spellings Node gives a peer address. */
function isLoopback(address) {
  return typeof address === 'string' && (/^(::ffff:)?127\./.test(address) || address === '::1');
}

/** The visitor id in the demo's session cookie, or undefined. */
export function visitorOf(cookieHeader) {
  const match = new RegExp(`(?:^|;\\s*)${sessionCookie}=([A-Za-z0-9_-]{22})(?:;|$)`).exec(cookieHeader ?? '');
  return match?.[1];
}

/**
 * Sends what the demo form asked for to the visitor who asked: their subscriptions were
 * stored with `{visitor}` by identify, so each browser only notifies itself.
 */
async function send(push, visitor, form) {
  const text = (value, max) => (typeof value === 'string' ? value.slice(0, max) : '');
  const notification = { title: text(form.title, 120) || 'Hello from tidings', body: text(form.body, 400) };
  if (text(form.url, 500)) notification.url = text(form.url, 500);
  if (text(form.action, 40)) notification.actions = [{ action: 'later', title: text(form.action, 40), url: '/article.html' }];
  const envelope = { v: 1, ts: Date.now(), notification };
  if (text(form.data, 200)) envelope.data = { text: text(form.data, 200) };
  if (form.cache === true) envelope.cache = { urls: ['/article.html'] };
  // The page registered a seal key, so send() seals unless the form says not to.
  return push.send(envelope, { to: { attributes: { visitor } }, ttl: 600, urgency: 'high', seal: form.sealed === true, by: demoSender(visitor) });
}

/** Who a demo send is recorded as sent by: the visitor, by the start of their session id. */
function demoSender(visitor) {
  return `demo visitor ${visitor.slice(0, 6)}`;
}

function loadVapidKeys(file, generate) {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  // Made once and kept: new keys would orphan every subscription made with the old ones.
  const vapid = { ...generate(), subject: 'mailto:demo@tidings.invalid' };
  writeFileSync(file, JSON.stringify(vapid, null, 2), { mode: 0o600 });
  return vapid;
}

/** A Firefox profile folder that points Firefox at the local push service. */
function writeFirefoxProfile(dir, prefs) {
  mkdirSync(dir, { recursive: true });
  const lines = Object.entries(prefs).map(([name, value]) => `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`);
  writeFileSync(join(dir, 'user.js'), `${lines.join('\n')}\n`);
  return dir;
}

async function serveFile(res, pathname) {
  const path = pathname === '/' ? '/index.html' : pathname;
  // The two bundles come straight from dist/, so the demo runs what ships.
  const base = path === '/tidings.iife.js' || path === '/tidings-worker.iife.js' || path.endsWith('.iife.js.map') ? distDir : publicDir;
  const file = normalize(join(base, decodeURIComponent(path)));
  // The separator matters: without it a sibling folder such as public-old would match.
  if (!file.startsWith(base + sep)) return json(res, 404, { error: 'not found' });
  const content = await readFile(file).catch(() => null);
  if (!content) return json(res, 404, { error: 'not found' });
  res.writeHead(200, {
    'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
    'content-security-policy': csp,
    'cache-control': 'no-cache',
  });
  res.end(content);
}

async function body(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw exposed(413, 'body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw exposed(400, 'body must be JSON');
  }
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

function exposed(status, message) {
  return Object.assign(new Error(message), { status, expose: true });
}
