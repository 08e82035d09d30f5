import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../../src/dashboard/index.js';
import type { Authorize, AuthorizeContext, DashboardOptions, DashboardPush } from '../../../src/dashboard/index.js';
import { CSP } from '../../../src/dashboard/http/securityHeaders.js';
import { createPushServer, memoryStore } from '../../../src/server/index.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { pushWithSubscribers, vapid } from '../../support/dashboard/dashboardFixture.js';
import { hostileTexts } from '../../support/dashboard/hostile.js';
import { HOSTILE_CLIENT_ATTRIBUTES, HOSTILE_USER, hostileKeys, seedForeignShapes, seedHostile, startHostilePushHost } from '../../support/dashboard/hostileData.js';
import { seedSampleMonth } from '../../support/dashboard/sampleMonth.js';
import type { TidingsEvent } from '../../../src/shared/protocol.js';

// The dashboard's handler without a browser: who gets in, what every answer carries, the
// JSON of each page, and the rules of its POSTs. Figures come from real push servers
// (push.stats over a store), hostile text too (test/support/dashboard/hostileData.ts). The
// pages themselves are test/e2e/dashboard-chromium.test.ts.

const origin = 'https://site.example';
const plainPush = () => createPushServer({ vapid, store: memoryStore() }) as ReturnType<typeof createPushServer> & DashboardPush;

function dashboard(options: Partial<DashboardOptions> & { authorize: Authorize }) {
  return createDashboard({ push: plainPush(), basePath: '/admin', ...options });
}

const get = (handler: ReturnType<typeof dashboard>['handler'], path: string, headers: Record<string, string> = {}) =>
  handler(new Request(`${origin}/admin${path}`, { headers }));
const post = (handler: ReturnType<typeof dashboard>['handler'], path: string, body: unknown, headers: Record<string, string> = {}) =>
  handler(
    new Request(`${origin}/admin${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', origin, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );

/** The hashed asset URLs the page shell names. */
async function assetPaths(handler: ReturnType<typeof dashboard>['handler']): Promise<string[]> {
  const html = await (await get(handler, '/')).text();
  const paths = [...html.matchAll(/"\/admin(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  expect(paths).toHaveLength(3);
  return paths;
}

const pages = ['', '/', '/messages', '/messages/m01', '/audience?by=team', '/compose', '/no/such/page'];
const data = ['/api/overview', '/api/overview?range=2d', '/api/messages', '/api/messages?after=25', '/api/messages/m01', '/api/audience?key=user&value=42', '/api/compose', '/api/nothing'];
const posts = ['/api/count', '/api/send', '/api/test', '/api/messages/m01/cancel', '/api/nothing'];

describe('createDashboard', () => {
  it('refuses to be made without authorize: nothing is open by default', () => {
    expect(() => createDashboard({ push: plainPush() } as unknown as DashboardOptions)).toThrow(/invalid-option authorize/);
    expect(() => createDashboard({ push: plainPush(), authorize: 'yes' } as unknown as DashboardOptions)).toThrow(/authorize/);
  });

  it('checks its origin lists as createPushServer checks allowedOrigins (one check for both)', () => {
    const refusal = (make: () => unknown) => {
      try {
        make();
      } catch (error) {
        return (error as { details?: unknown }).details;
      }
      return undefined;
    };
    for (const bad of ['https://app.example/path', 'app.example', 'https://app.example/']) {
      const fromPush = refusal(() => createPushServer({ vapid, store: memoryStore(), allowedOrigins: [bad] }));
      expect(fromPush).toMatchObject({ option: 'allowedOrigins' });
      expect(refusal(() => dashboard({ authorize: () => 'ann', allowedOrigins: [bad] }))).toEqual(fromPush);
      expect(refusal(() => dashboard({ authorize: () => 'ann', linkOrigins: [bad] }))).toEqual({ ...(fromPush as object), option: 'linkOrigins' });
    }
    expect(() => dashboard({ authorize: () => 'ann', allowedOrigins: ['https://app.example'], linkOrigins: ['https://cdn.example:8443'] })).not.toThrow();
  });

  it('refuses a push object without send() and stats missing a method', () => {
    expect(() => createDashboard({ push: {} as DashboardPush, authorize: () => 'ann' })).toThrow(/invalid-option push/);
    const stats = { ...plainPush().stats, timeline: undefined } as unknown as DashboardPush['stats'];
    expect(() => createDashboard({ push: Object.assign(plainPush(), { stats }), authorize: () => 'ann' })).toThrow(/push\.stats.*timeline/);
  });
});

describe('authorize decides every request', () => {
  const seen: AuthorizeContext[] = [];
  const refusing = (answer: null | false): Authorize => (_request, context) => {
    seen.push(context);
    return answer;
  };
  const open = dashboard({ authorize: () => 'ann' });

  it('answers 401 to every page, asset, data URL and POST when authorize names nobody', async () => {
    const handler = dashboard({ authorize: refusing(null) }).handler;
    for (const path of [...pages, ...(await assetPaths(open.handler)), ...data]) {
      const response = await get(handler, path);
      expect(response.status, path).toBe(401);
      expect(await response.json()).toEqual({ error: 'unauthorized' });
    }
    for (const path of posts) expect((await post(handler, path, {})).status, path).toBe(401);
  });

  it('answers 403 to the same when authorize says no', async () => {
    const handler = dashboard({ authorize: refusing(false) }).handler;
    for (const path of [...pages, ...(await assetPaths(open.handler)), ...data]) expect((await get(handler, path)).status, path).toBe(403);
    for (const path of posts) expect((await post(handler, path, {})).status, path).toBe(403);
  });

  it('tells authorize what is asked: page, asset, data or which action', async () => {
    seen.length = 0;
    const handler = dashboard({ authorize: refusing(null) }).handler;
    const [script] = await assetPaths(open.handler);
    await get(handler, '/messages');
    await get(handler, script!);
    await get(handler, '/api/overview');
    await post(handler, '/api/count', {});
    await post(handler, '/api/send', {});
    await post(handler, '/api/test', {});
    await post(handler, '/api/messages/x/cancel', {});
    expect(seen.map(({ kind, action }) => (action ? `${kind}:${action}` : kind))).toEqual(['page', 'asset', 'data', 'data', 'action:send', 'action:test', 'action:cancel']);
  });

  it("hands on authorize's own Response (a login redirect, a challenge)", async () => {
    const handler = dashboard({ authorize: () => new Response(null, { status: 302, headers: { location: '/login' } }) }).handler;
    const response = await get(handler, '/api/overview');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login');
    expect(response.headers.get('content-security-policy')).toBe(CSP);
  });

  it('answers 500 (and reports it) when authorize throws or returns something that names nobody', async () => {
    const errors: unknown[] = [];
    for (const authorize of [() => Promise.reject(new Error('session store down')), () => ({ name: 42 }), () => 42] as unknown as Authorize[]) {
      const handler = dashboard({ authorize, onError: (error) => errors.push(error) }).handler;
      expect((await get(handler, '/api/overview')).status).toBe(500);
    }
    expect(errors).toHaveLength(3);
  });

  it('leaves paths outside its base to the rest of the app', async () => {
    const response = await open.handler(new Request(`${origin}/elsewhere`));
    expect(response.status).toBe(404);
  });
});

describe('what every answer carries', () => {
  const { handler } = dashboard({ authorize: () => 'ann' });

  it('a strict CSP, nosniff, no framing and no referrer, on pages, data and errors', async () => {
    for (const path of ['/', '/messages', '/api/overview', '/api/messages/unknown', '/nope']) {
      const response = await get(handler, path);
      expect(response.headers.get('content-security-policy'), path).toBe(CSP);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    expect(CSP).toContain("default-src 'none'");
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).toContain("frame-ancestors 'none'");
    expect(CSP).toContain("base-uri 'none'");
    expect(CSP).toContain("form-action 'self'");
    expect(CSP).not.toMatch(/unsafe|\*|data:|https?:/);
  });

  it('serves its hashed assets for a year, to the viewer only, and nothing under other names', async () => {
    for (const path of await assetPaths(handler)) {
      const response = await get(handler, path);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
      expect(response.headers.get('content-type')).toMatch(path.endsWith('.js') ? /^text\/javascript/ : path.endsWith('.css') ? /^text\/css/ : /^image\/svg\+xml/);
      expect((await response.text()).length).toBeGreaterThan(100);
    }
    expect((await get(handler, '/assets/dashboard.js')).status).toBe(404);
    expect((await get(handler, '/assets/..%2Fapi%2Foverview')).status).toBe(404);
  });

  it('one page shell for every page, with no inline script or style and no data in it', async () => {
    const html = await (await get(handler, '/messages/m01')).text();
    expect(html).toBe(await (await get(handler, '/compose')).text());
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]|<style|style=|\son\w+=/);
    for (const text of hostileTexts) expect(html).not.toContain(text);
    expect(html).toMatch(/<script type="module" src="\/admin\/assets\/dashboard\.[\w-]{12}\.js"><\/script>/);
  });
});

describe('the data routes', () => {
  const viewer = hostileTexts[1];
  let pushService: PushService;
  let site: Awaited<ReturnType<typeof hostileSite>>;
  beforeAll(async () => {
    pushService = await startPushService();
    site = await hostileSite(pushService, viewer);
  });
  afterAll(async () => {
    await site?.host.close();
    await pushService?.close();
  });
  const json = async (path: string) => {
    const response = await get(site.handler, path);
    expect(response.status, path).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    return (await response.json()) as { session: Record<string, unknown>; data: Record<string, any> };
  };

  it('give hostile titles, urls, senders, errors, attributes and user names back as the same JSON text', async () => {
    const list = await json('/api/messages');
    expect(list.session.viewer).toBe(viewer);
    // Sends made in the same millisecond are in id order: compare the titles as a set.
    expect(list.data.items.map((m: { title: string }) => m.title).sort()).toEqual([...hostileTexts, 'A row from a foreign store'].sort());
    expect(list.data.items.filter((m: { by?: string }) => m.by === viewer)).toHaveLength(hostileTexts.length);
    const id = site.ids[3]!;
    const message = await json(`/api/messages/${id}`);
    const original = (await site.push.stats.message(id))!;
    expect(message.data.message).toMatchObject({ title: hostileTexts[3], by: viewer, url: original.url, type: original.type });
    expect(message.data.message.envelope).toEqual(original.envelope);
    // The hostile push service's answer, kept as the failure's sample.
    expect(message.data.message.errors).toEqual([{ cause: 'http-4xx', host: new URL(site.host.origin).host, count: 2, sample: expect.any(String) }]);
    expect(hostileTexts).toContain(message.data.message.errors[0].sample);
    expect(message.data.message.errors).toEqual(original.errors);
    const topics = await json(`/api/audience?by=topic&key=user&value=${HOSTILE_USER}`);
    expect(topics.data.subscribers.byAttribute.values.map((v: { value: string }) => v.value).sort()).toEqual(hostileTexts.slice(0, 6).sort());
    expect(topics.data.found.items).toHaveLength(7);
    const registered = topics.data.found.items.filter((item: { attributes: Record<string, unknown> }) => 'topic' in item.attributes);
    expect(registered).toHaveLength(6);
    for (const item of registered) expect(Object.keys(item.attributes)).toEqual(expect.arrayContaining(hostileKeys));
    const byKey = await json(`/api/audience?by=${encodeURIComponent(hostileKeys[2]!)}`);
    expect(byKey.data.subscribers.byAttribute).toMatchObject({ key: hostileKeys[2], values: [{ value: hostileTexts[5], count: 6 }] });
    // What only a store of a site's own making holds: hostile push-service and browser names, causes and hosts.
    const foreign = await json(`/api/messages/${site.foreign}`);
    expect(Object.keys(foreign.data.message.byService)).toEqual(expect.arrayContaining([hostileTexts[0], hostileTexts[2]]));
    expect(Object.keys(foreign.data.message.byBrowser)).toEqual([hostileTexts[1]]);
    expect(foreign.data.message.errors).toEqual([{ cause: hostileTexts[9], host: hostileTexts[10], count: 1, sample: hostileTexts[11] }]);
  });

  it('pass on only the named fields of the stats (an endpoint in a summary stays out)', async () => {
    // A push object of a site's own making whose stats hand back more than the contract names.
    const stats = site.push.stats;
    const leaky = {
      ...stats,
      subscriptions: async (query: Parameters<typeof stats.subscriptions>[0]) => {
        const page = await stats.subscriptions(query);
        return { ...page, items: page.items.map((item) => ({ ...item, endpoint: 'https://fcm.googleapis.com/fcm/send/secret' })) };
      },
    };
    const { handler: h } = dashboard({ authorize: () => 'ann', push: Object.assign(plainPush(), { stats: leaky }) });
    const text = await (await get(h, `/api/audience?key=user&value=${HOSTILE_USER}`)).text();
    expect(text).toContain(hostileKeys[0]!.replace(/"/g, '\\"'));
    expect(text).not.toContain('secret');
  });

  it('answer 404 for a message nobody knows, and 400 for an unknown range or an oversized parameter', async () => {
    const { handler } = site;
    expect((await get(handler, '/api/messages/nope')).status).toBe(404);
    expect((await get(handler, '/api/messages/%E0%A4%A')).status).toBe(404);
    expect((await get(handler, '/api/overview?range=1y')).status).toBe(400);
    expect((await get(handler, `/api/messages?after=${'x'.repeat(600)}`)).status).toBe(400);
  });

  it('say what the push object can do, and hide what it cannot', async () => {
    // A push object of a site's own making that offers only send(): no audience sizes, no rich audiences, no controls.
    const bare = dashboard({ authorize: () => 'ann', push: { send: plainPush().send } as unknown as DashboardPush }).handler;
    const overview = (await (await get(bare, '/api/overview')).json()) as { session: { capabilities: Record<string, unknown>; canTest: boolean }; data: object };
    expect(overview.session.capabilities).toEqual({ stats: false, count: false, richAudiences: false, queue: false, progress: false, cancel: false, controls: [] });
    const real = dashboard({ authorize: () => 'ann' }).handler;
    const realSession = ((await (await get(real, '/api/overview')).json()) as { session: { capabilities: Record<string, unknown> } }).session;
    // createPushServer's own: everything, its controls included (issue 21).
    expect(realSession.capabilities).toEqual({
      stats: true,
      count: true,
      richAudiences: true,
      queue: false,
      progress: true,
      cancel: true,
      controls: ['at', 'localTime', 'timeZone', 'quietHours', 'perSecond', 'cap', 'locales'],
    });
    expect(overview.session.canTest).toBe(false);
    expect(overview.data).toEqual({ range: '30d', minShown: 100 });
    expect(await (await get(bare, '/api/messages')).json()).toMatchObject({ data: null });
    expect((await post(bare, '/api/messages/x/cancel', {})).status).toBe(404);
    expect((await post(bare, '/api/test', { envelope: { v: 1, notification: { title: 't' } } })).status).toBe(404);

    const controlled = Object.assign(plainPush(), { controls: ['at', 'perSecond', 'launch-missiles'], cancel: async () => undefined, status: async () => undefined });
    const rich = dashboard({ authorize: () => 'ann', push: controlled }).handler;
    const session = ((await (await get(rich, '/api/compose')).json()) as { session: { capabilities: Record<string, unknown> } }).session;
    expect(session.capabilities).toMatchObject({ controls: ['at', 'perSecond'], cancel: true, progress: true });
  });
});

describe('the data routes over real stats', () => {
  const push = () => {
    const store = memoryStore();
    return { store, push: createPushServer({ vapid, store, pushServices: 'any' }) as ReturnType<typeof createPushServer> & DashboardPush };
  };
  const read = async (handler: ReturnType<typeof dashboard>['handler'], path: string) => (await (await get(handler, path)).json()) as { data: any };

  it('show the send log newest first, a page at a time, with its funnels', async () => {
    const { store, push: real } = push();
    const ids = await seedSampleMonth(store, Date.now(), 3);
    for (let i = 0; i < 24; i++) await real.send({ v: 1, id: `extra-${String(i).padStart(2, '0')}`, notification: { title: `Extra ${i}` } });
    const { handler } = dashboard({ authorize: () => 'ann', push: real });
    const first = await read(handler, '/api/messages');
    expect(first.data.items).toHaveLength(25);
    expect(first.data.items[0]).toMatchObject({ id: 'extra-23', via: 'send', state: 'done', targeted: 0 });
    expect(typeof first.data.next).toBe('string');
    const second = await read(handler, `/api/messages?after=${encodeURIComponent(first.data.next)}`);
    expect(second.data.items.map((m: { id: string }) => m.id)).toEqual([...ids].slice(1));
    expect(second.data.next).toBeUndefined();
    // Each row's funnel is the stats' own.
    const row = second.data.items[0];
    const stats = (await real.stats.message(row.id))!;
    expect(row).toMatchObject({ targeted: stats.targeted, sent: stats.sent, delivered: stats.delivered, shown: stats.shown, clicked: stats.clicked, clickRate: stats.clickRate });
    const one = await read(handler, `/api/messages/${ids[0]}`);
    expect(one.data.message).toMatchObject({ id: ids[0], title: 'Your order has shipped', byBrowser: stats.byBrowser ? expect.any(Object) : undefined });
    expect(one.data.message.byBrowser).toEqual((await real.stats.message(ids[0]!))!.byBrowser);
    expect(Object.keys(one.data.message.byBrowser).sort()).toEqual(['chrome', 'edge', 'firefox', 'safari']);
  });

  it('warn about engagement below the threshold over 7 and 30 days, with enough shown', async () => {
    const { store, push: real } = push();
    const now = Date.now();
    // A send a day for 30 days, 200 browsers shown each; the last 7 days 1 click a day
    // (0.5%), before that 10 a day (5%): signed events, counted by the store's rollups.
    const subscribers = [];
    for (let n = 0; n < 200; n++) subscribers.push((await store.saveSubscription({ subscription: { endpoint: `https://fcm.googleapis.com/fcm/send/e${n}`, keys: { p256dh: 'p', auth: 'a' } } })).id);
    for (let day = 0; day < 30; day++) {
      const at = now - day * 86_400_000 - 60_000;
      const id = `day-${day}`;
      await store.createSend({ id, envelope: { v: 1, id }, audience: null, options: {}, via: 'send', state: 'done', createdAt: at, targeted: 200, sent: 200, gone: 0, failed: 0, pruned: 0, capped: 0, deferred: 0, failures: [] });
      const clicks = day < 7 ? 1 : 10;
      for (const [n, subscriptionId] of subscribers.entries()) {
        const events: TidingsEvent[] = [{ id: `${id}-${n}-s`, type: 'shown', messageId: id, at }];
        if (n < clicks) events.push({ id: `${id}-${n}-c`, type: 'clicked', messageId: id, at });
        await store.recordEvents({ subscriptionId, countSince: 0, events });
      }
    }
    const { handler } = dashboard({ authorize: () => 'ann', push: real });
    const overview = await read(handler, '/api/overview');
    const [week, month] = overview.data.engagement as { days: number; low: boolean; clickRate: number; shown: number }[];
    expect(week).toMatchObject({ days: 7, low: true });
    expect(week!.clickRate).toBeCloseTo(0.005, 3);
    expect(month).toMatchObject({ days: 30, low: false, shown: 6000 });
    expect(overview.data.subscribers.total).toBe(200);
  });
});

describe('the POSTs', () => {
  let pushService: PushService;
  beforeAll(async () => {
    pushService = await startPushService();
  });
  afterAll(() => pushService.close());

  it('refuse cross-site requests before asking authorize, and bodies that are not JSON', async () => {
    let asked = 0;
    const { handler } = dashboard({ authorize: () => (asked++, 'ann') });
    const body = { envelope: { v: 1, notification: { title: 'hi' } }, to: null, confirm: null };
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example', 'sec-fetch-site': 'same-site' }, { origin: 'null' }] as Record<string, string>[]) {
      const response = await post(handler, '/api/send', body, headers);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-security-policy')).toBe(CSP);
    }
    expect(asked).toBe(0);
    expect((await post(handler, '/api/send', 'title=hi', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await post(handler, '/api/send', 'hi', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(handler, '/api/send', '{', {})).status).toBe(400);
    expect((await post(handler, '/api/send', { to: null })).status).toBe(400);
    expect((await post(handler, '/api/send', { envelope: { v: 2 } })).status).toBe(400);
  });

  it('send only after the viewer confirmed the audience size, recording who sent it', async () => {
    const { store, push } = await pushWithSubscribers(pushService, [{ attributes: { team: 'red' } }, { attributes: { team: 'red' } }, { attributes: { team: 'blue' } }]);
    const sends: Record<string, unknown>[] = [];
    const send = push.send;
    const counted = Object.assign(push, {
      count: async (to?: { attributes?: Record<string, string> }) => (await store.findSubscriptions(to?.attributes ? { attributes: to.attributes } : {})).length,
      send: (envelope: Parameters<typeof send>[0], options: Record<string, unknown> = {}) => (sends.push(options), send(envelope, options)),
    });
    const { handler } = createDashboard({ push: counted, authorize: () => ({ name: 'ann' }), basePath: '/admin' });
    const body = { envelope: { v: 1, notification: { title: 'Red alert' } }, to: { attributes: { team: 'red' } } };

    expect(await (await post(handler, '/api/count', { to: body.to })).json()).toEqual({ count: 2 });
    const unconfirmed = await post(handler, '/api/send', body);
    expect(unconfirmed.status).toBe(409);
    expect(await unconfirmed.json()).toEqual({ error: 'confirm', audience: 2 });
    expect((await post(handler, '/api/send', { ...body, confirm: 3 })).status).toBe(409);
    expect(sends).toEqual([]);

    const sent = await post(handler, '/api/send', { ...body, confirm: 2 });
    expect(sent.status).toBe(200);
    const answer = (await sent.json()) as { id: string; via: string; result: { sent: number } };
    expect(answer).toMatchObject({ via: 'send', result: { sent: 2, gone: 0, failed: 0 } });
    expect(sends).toEqual([{ by: 'ann', to: { attributes: { team: 'red' } } }]);

    // One subscriber: no confirmation needed.
    expect((await post(handler, '/api/send', { ...body, to: { attributes: { team: 'blue' } } })).status).toBe(200);
  });

  it('record a safe name as the sender whatever name authorize gives, and never fail a send for it', async () => {
    const { push } = await pushWithSubscribers(pushService, [{ attributes: { user: '1' } }]);
    const names: [string, string][] = [
      ['  Ann\u0000 \u001b[31mRed\u001b[0m\u202e  ', 'Ann Red'],
      ['x'.repeat(500), `${'x'.repeat(199)}…`],
      ['\u200b\u0007\t', '(unnamed)'],
      ['', '(unnamed)'],
      ['\ud800lone', 'lone'],
    ];
    for (const [given, recorded] of names) {
      const { handler } = createDashboard({ push, authorize: () => ({ name: given }), basePath: '/admin' });
      const session = ((await (await get(handler, '/api/compose')).json()) as { session: { viewer: string } }).session;
      expect(session.viewer).toBe(recorded);
      const answer = await post(handler, '/api/send', { envelope: { v: 1, notification: { title: 'Named' } }, to: null });
      expect(answer.status, JSON.stringify(given)).toBe(200);
      const { id } = (await answer.json()) as { id: string };
      expect((await push.stats.message(id))!.by).toBe(recorded);
    }
  });

  it('check the sending controls and the languages as send() does, before asking to confirm', async () => {
    const { push, store } = await pushWithSubscribers(pushService, [{ attributes: { user: '1' } }, { attributes: { user: '2' } }]);
    const { handler } = createDashboard({ push, authorize: () => 'ann', basePath: '/admin' });
    const envelope = { v: 1, notification: { title: 'Hello' } };
    const refused = async (options: object) => {
      const answer = await post(handler, '/api/send', { envelope, to: null, options });
      expect(answer.status, JSON.stringify(options)).toBe(400);
      return answer.json();
    };
    // No confirm was given: each is refused for what it is, not with a 409.
    expect(await refused({ locales: { 'not a tag': { notification: { title: 'x' } } } })).toMatchObject({ error: 'invalid-option', field: 'locales."not a tag"' });
    expect(await refused({ locales: { fr: { notification: { title: 7 } } } })).toMatchObject({ error: 'invalid-option', field: 'locales.fr.notification.title' });
    expect(await refused({ locales: { fr: { subject: 'x' } } })).toMatchObject({ error: 'invalid-option', field: 'locales.fr.subject' });
    expect(await refused({ locales: {} })).toMatchObject({ error: 'invalid-option', field: 'locales' });
    expect(await refused({ perSecond: 0 })).toMatchObject({ error: 'invalid-option', field: 'perSecond' });
    expect(await refused({ localTime: '25:00' })).toMatchObject({ error: 'invalid-option', field: 'localTime' });
    expect(await store.listSends({ limit: 10 })).toEqual([]);
    // Languages as Compose makes them: each subscriber gets its own.
    const locales = { fr: { notification: { lang: 'fr', title: 'Bonjour' } }, 'pt-BR': { notification: { lang: 'pt-BR', body: 'Olá' } } };
    const sent = await post(handler, '/api/send', { envelope, to: null, confirm: 2, options: { locales } });
    expect(sent.status).toBe(200);
    const { id } = (await sent.json()) as { id: string };
    expect((await push.status(id))!.options).toEqual({ locales });
  });

  it('refuse options the push object does not offer, and what send() refuses', async () => {
    const { push: real } = await pushWithSubscribers(pushService, [{ attributes: { user: '1' } }]);
    // A push object that offers no sending controls.
    const push = { ...real, controls: [] };
    const { handler } = createDashboard({ push, authorize: () => 'ann', basePath: '/admin' });
    const envelope = { v: 1, notification: { title: 'x' } };
    const refused = await post(handler, '/api/send', { envelope, to: null, confirm: null, options: { at: Date.now() + 60_000 } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'invalid-request', field: 'options.at', reason: 'not-offered' });
    const badTtl = await post(handler, '/api/send', { envelope, to: null, confirm: null, options: { ttl: -1 } });
    expect(badTtl.status).toBe(400);
    expect(await badTtl.json()).toMatchObject({ error: 'invalid-option', field: 'ttl' });
  });

  it("send a test to the viewer's own audience, named by authorize, and to nobody else", async () => {
    const { store, push } = await pushWithSubscribers(pushService, [{ attributes: { user: 'ann' } }, { attributes: { user: 'bob' } }]);
    const { handler } = createDashboard({ push, authorize: () => ({ name: 'Ann', audience: { attributes: { user: 'ann' } } }), basePath: '/admin' });
    const compose = (await (await get(handler, '/api/compose')).json()) as { session: { canTest: boolean } };
    expect(compose.session.canTest).toBe(true);
    // count() says the viewer's audience is one subscriber: no confirmation is asked.
    const answer = await post(handler, '/api/test', { envelope: { v: 1, notification: { title: 'Test' } } });
    expect(await answer.json()).toMatchObject({ via: 'send', result: { sent: 1 } });
    const [ann] = await store.findSubscriptions({ attributes: { user: 'ann' } });
    const [bob] = await store.findSubscriptions({ attributes: { user: 'bob' } });
    expect(await pushService.received(ann!.subscription.endpoint)).toHaveLength(1);
    expect(await pushService.received(bob!.subscription.endpoint)).toHaveLength(0);
    expect((await post(handler, '/api/test', { envelope: { v: 1, notification: { title: 'T' } }, to: { attributes: { user: 'bob' } } })).status).toBe(400);
  });
});

/**
 * A real push server whose data strangers wrote (hostileData.ts): registrations through
 * its handler, sends through the dashboard as a viewer named `viewer`, a push service that
 * answers with hostile text, and the rows only a foreign store holds.
 */
async function hostileSite(pushService: PushService, viewer: string) {
  const store = memoryStore();
  const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, retries: 0, clientAttributes: HOSTILE_CLIENT_ATTRIBUTES, identify: () => ({ user: HOSTILE_USER }) });
  const host = await startHostilePushHost();
  const { handler } = createDashboard({ push, authorize: () => ({ name: viewer }), basePath: '/admin' });
  const ids = await seedHostile({
    register: (body) =>
      push.handler(
        new Request(`${origin}/api/push/subscriptions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin, 'sec-fetch-site': 'same-origin', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0' },
          body: JSON.stringify(body),
        }),
        { clientAddress: '127.0.0.1' },
      ),
    dashboard: (path, body) => post(handler, `/api${path}`, body),
    setAttributes: (to, attributes) => push.setAttributes(to as Parameters<typeof push.setAttributes>[0], attributes),
    subscribe: () => pushService.subscribe(vapid.publicKey),
    host,
  });
  const foreign = await seedForeignShapes(store);
  return { store, push, handler, ids, foreign, host };
}
