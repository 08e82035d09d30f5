// One Chromium session for the browser benchmarks: a static server with the bench's routes,
// one page that registers every worker under test at its own scope on one origin, and the
// push driver of tidings/testing (attachPushDriver) to deliver real push events through
// the DevTools protocol.
import { performance } from 'node:perf_hooks';
import { loadHarness } from './support.mjs';
import { attachPushDriver } from '../dist/testing.js';

const now = () => performance.timeOrigin + performance.now();

/** Starts the server and browser; `close()` ends both. */
export async function openSession() {
  const harness = await loadHarness();
  const server = await harness.startStaticServer(['bench/browser', 'bench', 'bench/.cache']);
  const probes = new Map(); // scope -> { hits, waiters }
  const backends = new Map(); // name -> { requests, events }

  const probeFor = (scope) => {
    if (!probes.has(scope)) probes.set(scope, { hits: [], waiters: [] });
    return probes.get(scope);
  };

  // The probe in each worker posts here when showNotification resolves.
  server.route((req, res, url) => {
    if (url.pathname !== '/probe') return false;
    const number = (name) => (url.searchParams.has(name) ? Number(url.searchParams.get(name)) : undefined);
    const hit = { arrived: now(), title: url.searchParams.get('title'), handled: number('handled'), shown: number('shown'), span: number('span') };
    // Cold-start trace marks (trace-sw.js), when the worker sends them.
    const marks = [...url.searchParams].filter(([name]) => name.startsWith('t.'));
    if (marks.length) hit.trace = Object.fromEntries(marks.map(([name, value]) => [name.slice(2), Number(value)]));
    const probe = probeFor(url.searchParams.get('scope'));
    probe.hits.push(hit);
    for (const waiter of probe.waiters.splice(0)) waiter();
    res.writeHead(204).end();
    return true;
  });

  // The workers' `backend`: counts analytics requests and the events in them.
  server.route(async (req, res, url) => {
    const match = /^\/api\/([\w-]+)\/events$/.exec(url.pathname);
    if (!match || req.method !== 'POST') return false;
    let body = '';
    for await (const chunk of req) body += chunk;
    const backend = backendFor(match[1]);
    backend.requests += 1;
    try {
      backend.events.push(...(JSON.parse(body).events ?? []));
    } catch {
      backend.malformed += 1;
    }
    res.writeHead(202).end();
    return true;
  });
  const backendFor = (name) => {
    if (!backends.has(name)) backends.set(name, { requests: 0, malformed: 0, events: [] });
    return backends.get(name);
  };

  const browser = await harness.launchChromium();
  const context = await harness.newContext(browser, server.origin);
  const page = await context.newPage();
  const push = await attachPushDriver(page);

  // A second DevTools session of our own for what the push driver does not do: stopping workers
  // and watching whether they run.
  const cdp = await context.newCDPSession(page);
  const running = new Map(); // registrationId -> runningStatus
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) running.set(v.registrationId, v.runningStatus);
  });
  await cdp.send('ServiceWorker.enable');

  const session = {
    origin: server.origin,
    page,
    browser,
    chromiumVersion: browser.version(),

    /** Registers `script` at `/s/<name>/` and resolves once its worker is activated. */
    async install(name, script) {
      const scope = `${server.origin}/s/${name}/`;
      if (!page.url().startsWith(server.origin)) await page.goto(`${server.origin}/bench.html`);
      await page.evaluate(([script, scope]) => navigator.serviceWorker.register(script, { scope }).then(() => true), [script, scope]);
      await push.activeRegistration(scope, 30_000);
      return scope;
    },

    /** Leaves the site, so no tab of it is visible while pushes arrive (as when a real push comes). */
    async leave() {
      await page.goto('about:blank');
    },

    /**
     * Delivers one push to `scope` and waits until it is shown. Resolves with `ms`, from the
     * DevTools delivery to the probe's report reaching the bench (one clock, Node's), and
     * `handledMs`, from the push event to showNotification resolved (the worker's clock; the
     * worker's own share of the time); null on timeout.
     */
    async timePush(scope, data, timeoutMs = 10_000) {
      const probe = probeFor(scope);
      const seen = probe.hits.length;
      const shown = waitFor(probe, () => probe.hits.length > seen, timeoutMs);
      const sentAt = now();
      await push.push(data, scope);
      if (!(await shown)) return null;
      const hit = probe.hits[seen];
      return { ms: hit.arrived - sentAt, handledMs: hit.handled, title: hit.title, trace: hit.trace };
    },

    /**
     * Sends `payloads` at once to `scope`, whose worker reports in batches (`?batch`).
     * Resolves with how many were shown and the span from the first push event to the last
     * notification (the worker's clock).
     */
    async burst(scope, payloads, timeoutMs = 60_000) {
      const probe = probeFor(scope);
      const seen = probe.hits.length;
      const last = () => probe.hits.at(-1);
      const done = waitFor(probe, () => probe.hits.length > seen && last().shown >= payloads.length, timeoutMs);
      await Promise.all(payloads.map((data) => push.push(data, scope)));
      // On timeout, settle for what was reported: the row then shows fewer shown than pushed.
      if (!(await done)) await new Promise((resolve) => setTimeout(resolve, 500));
      const hit = probe.hits.length > seen ? last() : null;
      return { shown: hit?.shown ?? 0, ms: hit?.span ?? null };
    },

    /** What a backend route received so far. */
    backend: backendFor,

    /** Visits the site and lists the notifications of `scope`: call only once every push was shown. */
    async notifications(scope, close = true) {
      if (!page.url().startsWith(server.origin)) await page.goto(`${server.origin}/bench.html`);
      return page.evaluate(
        async ([scope, close]) => {
          const registration = await navigator.serviceWorker.getRegistration(scope);
          const list = await registration.getNotifications();
          if (close) for (const n of list) n.close();
          return list.map((n) => ({ title: n.title, tag: n.tag }));
        },
        [scope, close],
      );
    },

    /** Closes every notification of `scope` and leaves the site again, so a benchmark starts with none. */
    async clearNotifications(scope) {
      await session.notifications(scope, true);
      await session.leave();
    },

    /** Stops every service worker and resolves once none runs. */
    async stopWorkers(timeoutMs = 10_000) {
      await cdp.send('ServiceWorker.stopAllWorkers');
      const deadline = Date.now() + timeoutMs;
      while ([...running.values()].some((status) => status !== 'stopped')) {
        if (Date.now() > deadline) throw new Error('service workers did not stop');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },

    async close() {
      await push.detach();
      await browser.close().catch(() => undefined);
      await server.close();
    },
  };
  return session;
}

/** Resolves true once `done()` holds, checked at each of `probe`'s hits, or false after `timeoutMs`. */
function waitFor(probe, done, timeoutMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const check = () => {
      if (done()) {
        clearTimeout(timer);
        resolve(true);
      } else probe.waiters.push(check);
    };
    check();
  });
}
