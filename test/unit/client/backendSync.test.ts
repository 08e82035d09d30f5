import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createBackendSync, type Registration } from '../../../src/worker/backendSync.js';
import { isTidingsError } from '../../../src/shared/TidingsError.js';
import { storedSync as stored } from './support/storedSync.js';
import { startTestBackend, type TestBackend } from './support/testBackend.js';
import { FakeLockManager } from './support/fakeLocks.js';

const subscription = (n = 1) => ({
  endpoint: `https://push.example/s/${n}`,
  expirationTime: null,
  keys: { p256dh: `p256dh-${n}`, auth: `auth-${n}` },
});
const registration = (n = 1, attributes: Registration['attributes'] = { user: 'u1' }): Registration => ({
  subscription: subscription(n),
  vapidPublicKey: 'vapid-1',
  attributes,
});
/** A registration that names no attributes, as a page whose client has none makes. */
const bare = (n = 1): Registration => ({ subscription: subscription(n), vapidPublicKey: 'vapid-1' });
const fast = { timeout: 500, retryDelay: 5 };

let backend: TestBackend;
beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory();
  backend = await startTestBackend();
});
afterEach(async () => {
  vi.unstubAllGlobals();
  await backend.close();
});

describe('createBackendSync options', () => {
  it('opens nothing and sends nothing when created', () => {
    const open = vi.spyOn(globalThis.indexedDB, 'open');
    createBackendSync({ backend: backend.url });
    expect(open).not.toHaveBeenCalled();
    expect(backend.requests).toEqual([]);
  });
});

describe('register', () => {
  it('posts the registration with the headers and stores the answer', async () => {
    const sync = createBackendSync({ backend: backend.url + '/', headers: { 'x-csrf': 't1' } });
    const state = await sync.register({ ...registration(), sealKey: { p256dh: 'sp', auth: 'sa' } });
    expect(backend.requests).toHaveLength(1);
    const [request] = backend.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/subscriptions' });
    expect(request!.headers['x-csrf']).toBe('t1');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.body).toEqual({
      subscription: subscription(),
      attributes: { user: 'u1' },
      sealKey: { p256dh: 'sp', auth: 'sa' },
    });
    expect(state).toMatchObject({ endpoint: subscription().endpoint, backendId: 's1', vapidPublicKey: 'vapid-1' });
    expect(await stored()).toEqual({ sync: state, pending: undefined });
  });

  it('calls a headers function before each request', async () => {
    let n = 0;
    const sync = createBackendSync({ backend: backend.url, headers: async () => ({ authorization: `Bearer ${++n}` }) });
    await sync.register(registration(1));
    await sync.register(registration(2));
    expect(backend.requests.map((r) => r.headers.authorization)).toEqual(['Bearer 1', 'Bearer 2', 'Bearer 3']);
  });

  it('sends nothing when the same registration is made again, from a new instance too', async () => {
    await createBackendSync({ backend: backend.url }).register(registration());
    const again = await createBackendSync({ backend: backend.url }).register(registration(1, { user: 'u1' }));
    expect(again?.backendId).toBe('s1');
    expect(backend.requests).toHaveLength(1);
  });

  it('re-registers when attributes change, but not when only their order does', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration(1, { a: 1, b: true }));
    await sync.register(registration(1, { b: true, a: 1 }));
    expect(backend.requests).toHaveLength(1);
    await sync.register(registration(1, { a: 2, b: true }));
    expect(backend.requests).toHaveLength(2);
    expect(backend.requests[1]!.body).toMatchObject({ attributes: { a: 2, b: true } });
  });

  it('re-registers when the seal key, the VAPID key or the expiry changes', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration());
    await sync.register({ ...registration(), sealKey: { p256dh: 'a', auth: 'b' } });
    await sync.register({ ...registration(), vapidPublicKey: 'vapid-2' });
    await sync.register({ ...registration(), subscription: { ...subscription(), expirationTime: 5 } });
    expect(backend.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST', 'POST']);
  });

  it('keeps the stored attributes when a registration names none: nothing is sent, nothing is dropped', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration(1, { sports: true }));
    const state = await createBackendSync({ backend: backend.url }).register(bare(1));
    expect(backend.requests).toHaveLength(1);
    expect(state?.attributes).toEqual({ sports: true });
  });

  it('registers a new endpoint (key change, expiry) with the attributes kept for the old one', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration(1, { sports: true }));
    await sync.register(bare(2));
    expect(backend.requests.map((r) => r.method)).toEqual(['POST', 'DELETE', 'POST']);
    expect(backend.requests[2]!.body).toMatchObject({ subscription: subscription(2), attributes: { sports: true } });
  });

  it('merges given attributes over the kept ones, the given keys winning', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration(1, { sports: true, lang: 'fr' }));
    await sync.register(registration(1, { lang: 'en' }));
    expect(backend.requests[1]!.body).toMatchObject({ attributes: { sports: true, lang: 'en' } });
  });

  it('replaces the kept attributes when asked to, and {} clears them', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration(1, { sports: true, lang: 'fr' }));
    await sync.register({ ...registration(1, { news: true }), replace: true });
    await sync.register({ ...registration(1, {}), replace: true });
    expect(backend.requests.map((r) => (r.body as { attributes?: object }).attributes)).toEqual([
      { sports: true, lang: 'fr' },
      { news: true },
      {},
    ]);
    // Cleared, they stay cleared: a registration naming none sends nothing.
    await sync.register(bare(1));
    expect(backend.requests).toHaveLength(3);
  });

  it('keeps the attributes of a queued registration for the next one', async () => {
    backend.script.push(503, 503, 503);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const sync = createBackendSync({ backend: backend.url, ...fast });
    expect(await sync.register(registration(1, { sports: true }))).toBeNull();
    await sync.register(bare(1));
    expect(backend.requests.at(-1)!.body).toMatchObject({ attributes: { sports: true } });
    expect((await stored()).sync?.attributes).toEqual({ sports: true });
  });

  it('forgets the attributes with the subscription on unregister', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration(1, { sports: true }));
    await sync.unregister();
    await sync.register(bare(2));
    expect(backend.requests.at(-1)!.body).not.toHaveProperty('attributes');
  });

  it('deletes the registration of an old endpoint, then registers the new one', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration(1));
    const state = await sync.register(registration(2));
    expect(backend.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /subscriptions',
      'DELETE /subscriptions/s1',
      'POST /subscriptions',
    ]);
    expect(state?.backendId).toBe('s2');
    expect([...backend.stored.keys()]).toEqual(['s2']);
    expect((await stored()).pending).toBeUndefined();
  });
});

describe('register when the backend fails', () => {
  it('retries a 503 twice and the registration still arrives', async () => {
    backend.script.push(503, 503);
    const state = await createBackendSync({ backend: backend.url, ...fast }).register(registration());
    expect(backend.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST']);
    expect(state?.backendId).toBe('s1');
    expect(await stored()).toMatchObject({ pending: undefined, sync: { backendId: 's1' } });
  });

  it('retries 408 and 429 too', async () => {
    backend.script.push(408, 429);
    expect(await createBackendSync({ backend: backend.url, ...fast }).register(registration())).not.toBeNull();
    expect(backend.requests).toHaveLength(3);
  });

  it('retries a request that times out', async () => {
    backend.script.push('hang');
    const state = await createBackendSync({ backend: backend.url, timeout: 100, retryDelay: 5 }).register(registration());
    expect(backend.requests).toHaveLength(2);
    expect(state?.backendId).toBe('s1');
  });

  it('retries an answer that is not JSON', async () => {
    backend.script.push('non-json');
    expect((await createBackendSync({ backend: backend.url, ...fast }).register(registration()))?.backendId).toBe('s1');
    expect(backend.requests).toHaveLength(2);
  });

  it('queues the registration when every attempt fails, and a later flush finishes it', async () => {
    backend.script.push(500, 502, 503);
    const sync = createBackendSync({ backend: backend.url, ...fast });
    expect(await sync.register(registration())).toBeNull();
    const { pending, sync: state } = await stored();
    expect(state).toBeUndefined();
    expect(pending).toMatchObject({ op: 'register', attempts: 3, subscription: subscription(), attributes: { user: 'u1' } });
    expect(pending!.lastError).toMatch(/503/);
    expect(pending!.nextAttemptAt).toBeGreaterThan(Date.now() - 1);

    // The next page load (or the worker) finishes it with nothing but the backend options.
    expect(await createBackendSync({ backend: backend.url }).flush()).toBe(true);
    expect(backend.requests).toHaveLength(4);
    expect(await stored()).toMatchObject({ pending: undefined, sync: { backendId: 's1' } });
  });

  it('queues the registration while offline', async () => {
    const offline = createBackendSync({ backend: 'http://127.0.0.1:1/api', ...fast, attempts: 2 });
    expect(await offline.register(registration())).toBeNull();
    expect((await stored()).pending).toMatchObject({ op: 'register', attempts: 2 });
    expect(await createBackendSync({ backend: backend.url }).flush()).toBe(true);
    expect(backend.stored.size).toBe(1);
  });

  it('finishes a queued registration when the same registration is asked for again', async () => {
    backend.script.push(503);
    const sync = createBackendSync({ backend: backend.url, ...fast, attempts: 1 });
    expect(await sync.register(registration())).toBeNull();
    expect((await sync.register(registration()))?.backendId).toBe('s1');
  });

  it('reports a 4xx as backend-failed with the status, without retrying, and drops it', async () => {
    backend.script.push(400);
    const error = await createBackendSync({ backend: backend.url, ...fast })
      .register(registration())
      .catch((e: unknown) => e);
    expect(isTidingsError(error, 'backend-failed')).toBe(true);
    expect((error as { details: { status: number } }).details.status).toBe(400);
    expect(backend.requests).toHaveLength(1);
    expect(await stored()).toEqual({ sync: undefined, pending: undefined });
  });

  it('backs off exponentially with jitter between attempts', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const delays: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    vi.stubGlobal('setTimeout', ((fn: () => void, ms: number) => {
      delays.push(ms);
      return realSetTimeout(fn, 0);
    }) as typeof setTimeout);
    backend.script.push(503, 503, 503);
    await createBackendSync({ backend: backend.url, retryDelay: 100, attempts: 4, timeout: 5000 }).register(registration());
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
    expect(delays.filter((ms) => ms < 5000)).toEqual([100, 200, 400]);
  });
});

describe('unregister', () => {
  it('deletes the registration and forgets it', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration());
    expect(await sync.unregister()).toBe(true);
    expect(backend.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/subscriptions/s1' });
    expect(await stored()).toEqual({ sync: undefined, pending: undefined });
  });

  it('takes a 404 as done', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration());
    backend.script.push(404);
    expect(await sync.unregister()).toBe(true);
  });

  it('sends nothing when nothing was registered', async () => {
    expect(await createBackendSync({ backend: backend.url }).unregister()).toBe(true);
    expect(backend.requests).toEqual([]);
  });

  it('queues the DELETE while the backend is down, and the next registration sends it first', async () => {
    const sync = createBackendSync({ backend: backend.url, ...fast, attempts: 1 });
    await sync.register(registration(1));
    backend.script.push(503);
    expect(await sync.unregister()).toBe(false);
    expect(await stored()).toMatchObject({ sync: undefined, pending: { op: 'unregister', backendId: 's1' } });
    await sync.register(registration(2));
    expect(backend.requests.slice(-2).map((r) => `${r.method} ${r.path}`)).toEqual([
      'DELETE /subscriptions/s1',
      'POST /subscriptions',
    ]);
    expect([...backend.stored.keys()]).toEqual(['s2']);
  });

  it('retries a replaced registration whose DELETE fails, then still registers the new one', async () => {
    const sync = createBackendSync({ backend: backend.url, ...fast });
    await sync.register(registration(1));
    backend.script.push(503);
    expect((await sync.register(registration(2)))?.backendId).toBe('s2');
    expect(backend.requests.slice(1).map((r) => `${r.method} ${r.path}`)).toEqual([
      'DELETE /subscriptions/s1',
      'DELETE /subscriptions/s1',
      'POST /subscriptions',
    ]);
  });

  it('reports a 403 as backend-failed', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register(registration());
    backend.script.push(403);
    await expect(sync.unregister()).rejects.toMatchObject({ code: 'backend-failed', details: { status: 403 } });
  });
});

describe('resubscribe (pushsubscriptionchange)', () => {
  it('deletes the old subscription and registers the new one with the last key and attributes', async () => {
    const sync = createBackendSync({ backend: backend.url });
    await sync.register({ ...registration(1, { user: 'u9' }), sealKey: { p256dh: 'p', auth: 'a' } });
    const state = await createBackendSync({ backend: backend.url }).resubscribe(subscription(2));
    expect(state).toMatchObject({ endpoint: subscription(2).endpoint, vapidPublicKey: 'vapid-1', attributes: { user: 'u9' } });
    expect(backend.requests[1]).toMatchObject({ method: 'DELETE', path: '/subscriptions/s1' });
    expect(backend.requests[2]!.body).toEqual({
      subscription: subscription(2),
      attributes: { user: 'u9' },
      sealKey: { p256dh: 'p', auth: 'a' },
    });
  });

  it('does nothing when nothing was ever registered', async () => {
    expect(await createBackendSync({ backend: backend.url }).resubscribe(subscription(2))).toBeNull();
    expect(backend.requests).toEqual([]);
  });
});

describe('an adapter instead of a URL', () => {
  const adapter = () => {
    const calls: string[] = [];
    const impl = {
      calls,
      failures: [] as unknown[],
      register: vi.fn(async () => {
        calls.push('register');
        const failure = impl.failures.shift();
        if (failure) throw failure;
        return { id: 'a1' };
      }),
      unregister: vi.fn(async (id: string) => void calls.push(`unregister ${id}`)),
    };
    return impl;
  };

  it('registers and unregisters through the functions', async () => {
    const a = adapter();
    const sync = createBackendSync({ backend: a });
    await sync.register(registration());
    await sync.unregister();
    expect(a.register).toHaveBeenCalledWith({ subscription: subscription(), attributes: { user: 'u1' } });
    expect(a.calls).toEqual(['register', 'unregister a1']);
    expect(backend.requests).toEqual([]);
  });

  it('retries plain errors and status >= 500, and reports other statuses', async () => {
    const a = adapter();
    a.failures.push(new Error('offline'), Object.assign(new Error('busy'), { status: 503 }));
    expect(await createBackendSync({ backend: a, ...fast }).register(registration())).not.toBeNull();
    expect(a.calls).toHaveLength(3);

    a.failures.push(Object.assign(new Error('no'), { status: 401 }));
    await expect(createBackendSync({ backend: a, ...fast }).register(registration(2))).rejects.toMatchObject({
      code: 'backend-failed',
      details: { status: 401 },
    });
  });
});

describe('several tabs at once', () => {
  it('make one registration without Web Locks', async () => {
    const tabs = [1, 2, 3].map(() => createBackendSync({ backend: backend.url }));
    const states = await Promise.all(tabs.map((tab) => tab.register(registration())));
    expect(backend.requests).toHaveLength(1);
    expect(states.map((s) => s?.backendId)).toEqual(['s1', 's1', 's1']);
  });

  it('make one registration under the tidings-sync Web Lock', async () => {
    const locks = new FakeLockManager();
    Object.defineProperty(navigator, 'locks', { value: locks, configurable: true });
    onTestFinished(() => void delete (navigator as { locks?: unknown }).locks);
    const tabs = [1, 2].map(() => createBackendSync({ backend: backend.url }));
    await Promise.all(tabs.map((tab) => tab.register(registration())));
    expect(backend.requests).toHaveLength(1);
    expect(locks.requested).toEqual(['tidings-sync', 'tidings-sync']);
  });
});

describe("the worker's background sync, which has none of a page's credentials", () => {
  it('leaves an operation queued with headers to a page, sending nothing', async () => {
    backend.script.push(503, 503, 503);
    const page = createBackendSync({ backend: backend.url, headers: { authorization: 'Bearer p' }, ...fast });
    expect(await page.register(registration())).toBeNull();
    const sent = backend.requests.length;
    expect(await createBackendSync({ backend: backend.url, background: true, ...fast }).flush()).toBe(false);
    expect(backend.requests).toHaveLength(sent);
    expect((await stored()).pending?.needsPage).toBe(true);
    // The page, with its headers, finishes it.
    expect(await page.flush()).toBe(true);
    expect(backend.requests.at(-1)!.headers.authorization).toBe('Bearer p');
    expect((await stored()).pending).toBeUndefined();
  });

  it('keeps a 401 or 403 queued for a page instead of dropping the registration', async () => {
    backend.script.push(403);
    const worker = createBackendSync({ backend: backend.url, background: true, ...fast });
    expect(await worker.register(registration(2))).toBeNull();
    const { pending } = await stored();
    expect(pending).toMatchObject({ needsPage: true, subscription: subscription(2) });
    // A page that can authenticate sends it.
    expect(await createBackendSync({ backend: backend.url, headers: { cookie: 'session' }, ...fast }).flush()).toBe(true);
    expect((await stored()).sync?.endpoint).toBe(subscription(2).endpoint);
  });
});
