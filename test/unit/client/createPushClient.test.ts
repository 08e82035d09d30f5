import { describe, expect, it, vi } from 'vitest';
import { createPushClient } from '../../../src/client/createPushClient.js';
import type { PushClientOptions } from '../../../src/client/PushClientOptions.js';
import { getValue, withTidingsDB } from '../../../src/worker/db.js';
import { isTidingsError } from '../../../src/shared/TidingsError.js';
import { FakeWorker } from './support/fakeBrowser.js';
import { KEY, OTHER_KEY, settle, until, useEnv } from './support/setup.js';

const env = useEnv();
const options = (extra: Partial<PushClientOptions> = {}): PushClientOptions => ({
  vapidPublicKey: KEY.text,
  backend: env.backend.url,
  ...extra,
});
const methods = () => env.backend.requests.map((r) => `${r.method} ${r.path}`);
const caught = async (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);
const sync = () => withTidingsDB((db) => getValue(db, 'sync'));

describe('options are checked at creation', () => {
  const refusal = (given: unknown) => {
    try {
      createPushClient(given as PushClientOptions);
    } catch (error) {
      return error;
    }
    throw new Error(`accepted ${JSON.stringify(given)}`);
  };

  it('says which required option is missing, even with no options at all', () => {
    for (const given of [undefined, null, {}, { backend: '/api/push' }, options({ vapidPublicKey: '' })])
      expect(refusal(given)).toMatchObject({
        code: 'invalid-option',
        message: 'invalid-option vapidPublicKey missing',
        details: { option: 'vapidPublicKey', reason: 'missing' },
      });
    for (const backend of [undefined, null, ''])
      expect(refusal(options({ backend: backend as never }))).toMatchObject({
        message: 'invalid-option backend missing',
        details: { option: 'backend', reason: 'missing' },
      });
  });

  it('refuses a VAPID key that is not a 65-byte uncompressed P-256 point, saying what it must be', () => {
    const bad = [42, 'not base64!', KEY.text.slice(0, 40), KEY.text + 'AA', OTHER_KEY.text.replace(/^B/, 'A'), {}];
    for (const vapidPublicKey of bad)
      expect(refusal(options({ vapidPublicKey: vapidPublicKey as string })), String(vapidPublicKey)).toMatchObject({
        code: 'invalid-option',
        details: { option: 'vapidPublicKey', reason: 'must be a 65-byte P-256 public key, base64url' },
      });
  });

  it('accepts the key padded or in the standard alphabet', () => {
    const standard = btoa(String.fromCharCode(...KEY.bytes));
    expect(() => createPushClient(options({ vapidPublicKey: standard }))).not.toThrow();
  });

  it('refuses a backend path without its leading slash, which would resolve against each page', () => {
    for (const backend of ['api/push', 'push', './api/push', '../api', 'localhost:3000/api', 'ftp://example.com/push', 'javascript:alert(1)'])
      expect(refusal(options({ backend })), backend).toMatchObject({
        message: expect.stringMatching(/^invalid-option backend must start with \/ or be an absolute URL/),
        details: { option: 'backend' },
      });
  });

  it('accepts a backend path from the root, an absolute http(s) URL, or an adapter', () => {
    const adapter = { register: async () => ({ id: 'x' }), unregister: async () => {} };
    for (const backend of ['/api/push', '/', 'https://push.example.com/api', 'HTTP://127.0.0.1:8080/p', adapter])
      expect(() => createPushClient(options({ backend }))).not.toThrow();
  });

  it.each([
    ['backend', { backend: 42 }, /absolute URL, or be \{register, unregister\}$/],
    ['backend', { backend: { register: async () => ({ id: 'x' }) } }, /\{register, unregister\}/],
    ['headers', { headers: 'Bearer x' }, /^must be an object or a function$/],
    ['attributes', { attributes: 'user=1' }, /^must be a flat object of strings, numbers and booleans$/],
    ['attributes', { attributes: ['a'] }, /^must be a flat object/],
    ['attributes', { attributes: { nested: { a: 1 } } }, /^must be a flat object/],
    ['attributes', { attributes: { n: Number.NaN } }, /^must be a flat object/],
    ['sealed', { sealed: 'yes' }, /^must be a boolean$/],
    ['localeAttributes', { localeAttributes: 'no' }, /^must be a boolean$/],
    ['scope', { scope: 7 }, /^must be a string$/],
    ['serviceWorker', { serviceWorker: 7 }, /^must be a script URL or a registration$/],
    ['serviceWorker', { serviceWorker: '' }, /^must be a script URL/],
    ['serviceWorker', { serviceWorker: {} }, /^must be a script URL/],
    ['registerServiceWorker', { registerServiceWorker: 'eager' }, /^must be 'load' or 'subscribe'$/],
    ['registerServiceWorker', { registerServiceWorker: true }, /^must be 'load' or 'subscribe'$/],
    ['timeout', { timeout: -1 }, /^must be a number of ms above 0$/],
    ['timeout', { timeout: '5000' }, /^must be a number of ms above 0$/],
    ['timeout', { timeout: Number.NaN }, /^must be a number of ms above 0$/],
    ['timeout', { timeout: Infinity }, /^must be a number of ms above 0$/],
  ])('refuses a bad %s, saying why', (option, extra, reason) => {
    const error = refusal(options(extra as Partial<PushClientOptions>));
    expect(error).toMatchObject({ code: 'invalid-option', details: { option, reason: expect.stringMatching(reason) } });
    expect((error as Error).message).toBe(`invalid-option ${option} ${(error as { details: { reason: string } }).details.reason}`);
  });

  it('treats an optional option set to undefined or null as absent', () => {
    const absent = { serviceWorker: undefined, scope: null, headers: undefined, attributes: null, sealed: undefined, timeout: undefined, registerServiceWorker: undefined };
    expect(() => createPushClient(options(absent as unknown as Partial<PushClientOptions>))).not.toThrow();
  });

  it('never asks for permission and sends nothing on creation', async () => {
    createPushClient(options());
    await settle();
    expect(env.browser.prompts).toBe(0);
    expect(env.browser.container.registerCalls).toEqual([]);
    expect(env.backend.requests).toEqual([]);
  });
});

describe('where push is unsupported', () => {
  it('creates a client without throwing, and every call rejects with unsupported', async () => {
    env.browser.uninstall();
    const client = createPushClient(options());
    for (const call of [client.subscribe(), client.unsubscribe(), client.requestPermission(), client.setAttributes({})])
      expect(isTidingsError(await caught(call), 'unsupported')).toBe(true);
    expect(await client.getState()).toEqual({ supported: false, permission: 'default', subscribed: false, synced: false });
    expect(client.onMessage(() => {})).toBeTypeOf('function');
    expect(client.onStateChange(() => {})).toBeTypeOf('function');
    expect((await client.diagnose()).supported).toBe(false);
  });
});

describe('subscribe', () => {
  it('asks, registers the worker, waits for it, subscribes with the key and registers with the backend', async () => {
    const client = createPushClient(options({ attributes: { user: 'u1' } }));
    const state = await client.subscribe();
    expect(env.browser.prompts).toBe(1);
    expect(env.browser.container.registerCalls).toEqual(['/sw.js']);
    const [registration] = env.browser.container.registrations.values();
    expect(registration!.pushManager.subscribeCalls).toHaveLength(1);
    const [call] = registration!.pushManager.subscribeCalls;
    expect(call!.userVisibleOnly).toBe(true);
    expect(new Uint8Array(call!.applicationServerKey as Uint8Array)).toEqual(KEY.bytes);
    expect(methods()).toEqual(['POST /subscriptions']);
    expect(env.backend.requests[0]!.body).toEqual({
      subscription: registration!.pushManager.subscription!.toJSON(),
      // The visitor's zone and language come along (localeAttributes).
      attributes: { user: 'u1', timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, language: navigator.language },
    });
    expect(state).toEqual({
      supported: true,
      permission: 'granted',
      subscribed: true,
      synced: true,
      endpointOrigin: 'https://push.example',
      attributes: { user: 'u1', timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, language: navigator.language },
    });
  });

  it('calls the permission prompt synchronously, inside the user gesture', () => {
    const client = createPushClient(options());
    void client.subscribe().catch(() => {});
    expect(env.browser.prompts).toBe(1);
  });

  it('rejects with permission-denied when the user refuses, and subscribes nothing', async () => {
    env.browser.answer = 'denied';
    const client = createPushClient(options());
    expect(isTidingsError(await caught(client.subscribe()), 'permission-denied')).toBe(true);
    expect(env.browser.container.registerCalls).toEqual([]);
    expect((await client.getState()).lastError).toMatch(/permission-denied/);
  });

  it('rejects with permission-denied without prompting when permission is already denied', async () => {
    env.browser.permission = 'denied';
    expect(isTidingsError(await caught(createPushClient(options()).subscribe()), 'permission-denied')).toBe(true);
    expect(env.browser.prompts).toBe(0);
  });

  it('rejects with permission-dismissed when the prompt is closed', async () => {
    env.browser.answer = 'default';
    expect(isTidingsError(await caught(createPushClient(options()).subscribe()), 'permission-dismissed')).toBe(true);
  });

  it('rejects with subscribe-failed and the cause when the browser refuses', async () => {
    env.browser.permission = 'granted';
    const cause = new DOMException('Registration failed - push service error', 'AbortError');
    const registration = await env.browser.container.register('/sw.js');
    registration.pushManager.failWith = cause;
    const error = await caught(createPushClient(options()).subscribe());
    expect(isTidingsError(error, 'subscribe-failed')).toBe(true);
    expect((error as { details: { cause: unknown } }).details.cause).toBe(cause);
    expect(env.backend.requests).toEqual([]);
  });

  it('fails fast with worker-failed when the worker goes redundant', async () => {
    env.browser.permission = 'granted';
    env.browser.container.installOutcome = 'redundant';
    const error = await caught(createPushClient(options()).subscribe());
    expect(isTidingsError(error, 'worker-failed')).toBe(true);
  });

  it('fails with worker-failed when the worker cannot be registered', async () => {
    env.browser.permission = 'granted';
    env.browser.container.registerError = new TypeError('404 for /sw.js');
    expect(isTidingsError(await caught(createPushClient(options()).subscribe()), 'worker-failed')).toBe(true);
  });

  it('uses a registration the site made, waiting for its worker to activate', async () => {
    env.browser.permission = 'granted';
    const registration = await env.browser.container.register('/push/worker.js', { scope: '/push/' });
    const client = createPushClient(options({ serviceWorker: registration as unknown as ServiceWorkerRegistration }));
    expect((await client.subscribe()).subscribed).toBe(true);
    expect(env.browser.container.registerCalls).toEqual(['/push/worker.js']);
  });

  it('reuses a subscription made with the same key', async () => {
    const existing = await env.browser.subscribedWith(KEY.bytes);
    const client = createPushClient(options());
    await client.subscribe();
    const [registration] = env.browser.container.registrations.values();
    expect(registration!.pushManager.subscribeCalls).toEqual([]);
    expect(existing.unsubscribed).toBe(false);
    expect(methods()).toEqual(['POST /subscriptions']);
  });

  it('rejects with backend-failed and the status when the backend answers 4xx', async () => {
    env.backend.script.push(422);
    const error = await caught(createPushClient(options()).subscribe());
    expect(error).toMatchObject({ code: 'backend-failed', details: { status: 422 } });
  });

  it('queues the registration when the backend is down, resolves unsynced, and retries while the page lives', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const spy = vi.spyOn(globalThis, 'setTimeout');
    env.backend.script.push(503, 503, 503);
    // The timeout also bounds the worker's first answer: 1 s was too short on a loaded CI machine.
    const client = createPushClient(options({ timeout: 5000 }));
    const state = await client.subscribe();
    expect(state).toMatchObject({ subscribed: true, synced: false, lastError: expect.stringMatching(/503/) });
    expect(methods()).toEqual(['POST /subscriptions', 'POST /subscriptions', 'POST /subscriptions']);
    // The background retry waits 30 s (halved by Math.random() = 0): run it now.
    const timer = spy.mock.calls.find(([, ms]) => ms === 15_000);
    expect(timer).toBeDefined();
    (timer![0] as () => void)();
    // Generous: the test is that the retry happens, and a loaded machine may slow it.
    await until(async () => (await client.getState()).synced, 10_000);
    expect(methods()).toHaveLength(4);
    vi.restoreAllMocks();
  }, 15_000);

  it('makes one registration when several tabs subscribe at once', async () => {
    const tabs = [1, 2, 3].map(() => createPushClient(options()));
    await Promise.all(tabs.map((tab) => tab.subscribe()));
    expect(methods()).toEqual(['POST /subscriptions']);
    expect(env.browser.locks.requested.every((name) => name == 'tidings-sync')).toBe(true);
  });
});

describe('on each page load (creation)', () => {
  it('sends nothing when nothing changed', async () => {
    await createPushClient(options()).subscribe();
    env.backend.requests.length = 0;
    const client = createPushClient(options());
    await settle(100);
    expect(env.backend.requests).toEqual([]);
    expect((await client.getState()).synced).toBe(true);
  });

  it('finishes a registration queued by an earlier page', async () => {
    env.backend.script.push(503, 503, 503);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    await createPushClient(options()).subscribe();
    vi.restoreAllMocks();
    createPushClient(options());
    await until(async () => env.backend.stored.size == 1);
    expect(methods()).toHaveLength(4);
  }, 15_000);

  it('re-registers when the attributes changed', async () => {
    await createPushClient(options({ attributes: { plan: 'free' } })).subscribe();
    createPushClient(options({ attributes: { plan: 'pro' } }));
    await until(() => env.backend.requests.length == 2);
    expect(env.backend.requests[1]!.body).toMatchObject({ attributes: { plan: 'pro' } });
  });

  it('replaces a subscription made with another VAPID key: unsubscribe, DELETE, subscribe, POST', async () => {
    await createPushClient(options({ vapidPublicKey: OTHER_KEY.text })).subscribe();
    const [registration] = env.browser.container.registrations.values();
    const old = registration!.pushManager.subscription!;
    createPushClient(options());
    await until(() => env.backend.requests.length == 3);
    expect(old.unsubscribed).toBe(true);
    expect(methods()).toEqual(['POST /subscriptions', 'DELETE /subscriptions/s1', 'POST /subscriptions']);
    const now = registration!.pushManager.subscription!;
    expect(new Uint8Array(now.options.applicationServerKey)).toEqual(KEY.bytes);
    expect((await sync())?.endpoint).toBe(now.endpoint);
  });

  it('replaces a subscription that expires within a day', async () => {
    const old = await env.browser.subscribedWith(KEY.bytes, Date.now() + 3_600_000);
    await createPushClient(options()).subscribe();
    expect(old.unsubscribed).toBe(true);
    const [registration] = env.browser.container.registrations.values();
    expect(registration!.pushManager.subscription).not.toBe(old);
  });

  it('makes again, on the next load, a subscription whose replacement failed', async () => {
    await createPushClient(options()).subscribe();
    const [registration] = env.browser.container.registrations.values();
    const old = registration!.pushManager.subscription!;
    old.expirationTime = Date.now() + 3_600_000;
    registration!.pushManager.failWith = new DOMException('push service unreachable', 'AbortError');
    // The browser allows one key per registration, so the old one is dropped first; then
    // making the new one fails, and this visitor, who never unsubscribed, has none.
    const error = await caught(createPushClient(options()).subscribe());
    expect(error).toMatchObject({ code: 'subscribe-failed' });
    expect(old.unsubscribed).toBe(true);
    registration!.pushManager.failWith = undefined;
    const client = createPushClient(options());
    await until(() => env.backend.requests.length == 3);
    expect(methods()).toEqual(['POST /subscriptions', 'DELETE /subscriptions/s1', 'POST /subscriptions']);
    expect((await client.getState()).synced).toBe(true);
    expect(env.browser.prompts).toBe(1);
  });

  it('does not subscribe again a visitor who unsubscribed, or whose permission is gone', async () => {
    const client = createPushClient(options());
    await client.subscribe();
    await client.unsubscribe();
    createPushClient(options());
    await settle(100);
    const [registration] = env.browser.container.registrations.values();
    expect(registration!.pushManager.subscribeCalls).toHaveLength(1);

    await client.subscribe();
    await registration!.pushManager.subscription!.unsubscribe();
    env.browser.permission = 'denied';
    createPushClient(options());
    await settle(100);
    expect(registration!.pushManager.subscribeCalls).toHaveLength(2);
  });

  it('keeps a subscription that expires later, or never', async () => {
    const old = await env.browser.subscribedWith(KEY.bytes, Date.now() + 30 * 86_400_000);
    await createPushClient(options()).subscribe();
    expect(old.unsubscribed).toBe(false);
  });

  it('sends a DELETE queued by an earlier page', async () => {
    const client = createPushClient(options());
    await client.subscribe();
    vi.spyOn(Math, 'random').mockReturnValue(0);
    env.backend.script.push(503, 503, 503);
    await client.unsubscribe();
    vi.restoreAllMocks();
    expect(env.backend.stored.size).toBe(1);
    createPushClient(options());
    await until(() => env.backend.stored.size == 0);
    expect(methods().at(-1)).toBe('DELETE /subscriptions/s1');
  }, 15_000);

  it('does not subscribe a visitor who never did', async () => {
    env.browser.permission = 'granted';
    await env.browser.container.register('/sw.js');
    createPushClient(options());
    await settle(100);
    const [registration] = env.browser.container.registrations.values();
    expect(registration!.pushManager.subscribeCalls).toEqual([]);
  });
});

describe('through the tidings worker', () => {
  it('sends the headers, called once per request to the worker, with the registration', async () => {
    let calls = 0;
    const headers = () => ({ authorization: `Bearer t${++calls}` });
    await createPushClient(options({ headers })).subscribe();
    expect(env.backend.requests[0]!.headers.authorization).toBe('Bearer t1');
  });

  it('resolves a relative backend URL against the page, not the worker script', async () => {
    const seen: unknown[] = [];
    const previous = FakeWorker.onmessage;
    FakeWorker.onmessage = (data, ports) => (seen.push(data), previous(data, ports));
    await createPushClient(options({ backend: '/api/push' })).subscribe().catch(() => {});
    expect(seen).toContainEqual(expect.objectContaining({ kind: 'sync', backend: new URL('/api/push', location.href).href }));
  });

  it('runs a backend adapter in the page when the worker asks for it', async () => {
    const register = vi.fn(async () => ({ id: 'a1' }));
    const unregister = vi.fn(async () => {});
    const client = createPushClient(options({ backend: { register, unregister }, attributes: { u: 1 } }));
    expect(await client.subscribe()).toMatchObject({ subscribed: true, synced: true });
    expect(register).toHaveBeenCalledWith(expect.objectContaining({ attributes: expect.objectContaining({ u: 1 }), subscription: expect.any(Object) }));
    await client.unsubscribe();
    expect(unregister).toHaveBeenCalledWith('a1');
    expect(env.backend.requests).toEqual([]);
  });

  it("reports an adapter's 4xx status as backend-failed, and queues its other failures", async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const register = vi.fn(async (): Promise<{ id: string }> => {
      throw Object.assign(new Error('nope'), { status: 403 });
    });
    const client = createPushClient(options({ backend: { register, unregister: async () => {} } }));
    expect(await caught(client.subscribe())).toMatchObject({ code: 'backend-failed', details: { status: 403 } });
    register.mockRejectedValue(new Error('offline'));
    expect(await client.subscribe()).toMatchObject({ synced: false, lastError: expect.stringMatching(/offline/) });
    expect(register).toHaveBeenCalledTimes(4);
    vi.restoreAllMocks();
  }, 15_000);

  it('fails with worker-failed when the service worker does not load the tidings worker', async () => {
    FakeWorker.onmessage = () => {};
    const error = await caught(createPushClient(options({ timeout: 50 })).subscribe());
    expect(error).toMatchObject({ code: 'worker-failed', details: { reason: 'no answer' } });
  });
});

describe('unsubscribe', () => {
  it('unsubscribes in the browser and deletes the registration from the backend', async () => {
    const client = createPushClient(options());
    await client.subscribe();
    const state = await client.unsubscribe();
    expect(methods()).toEqual(['POST /subscriptions', 'DELETE /subscriptions/s1']);
    expect(state).toMatchObject({ subscribed: false, synced: false });
    expect(await sync()).toBeUndefined();
  });
});

describe('time zone and language', () => {
  it("registers the visitor's zone and language, under the page's own attributes, and not at all when told not to", async () => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    await createPushClient(options({ attributes: { language: 'fr', team: 'red' } })).subscribe();
    expect(env.backend.requests[0]!.body).toMatchObject({ attributes: { timeZone: zone, language: 'fr', team: 'red' } });
    await createPushClient(options({ localeAttributes: false, attributes: { team: 'red' } })).setAttributes({ team: 'red' });
    expect(env.backend.requests[1]!.body).toMatchObject({ attributes: { team: 'red' } });
    expect((env.backend.requests[1]!.body as { attributes: object }).attributes).not.toHaveProperty('timeZone');
  });
});

describe('logout and login (a shared computer)', () => {
  it('re-registers anonymously on logout, stays anonymous across page loads, and registers again on login', async () => {
    const client = createPushClient(options());
    await client.subscribe();
    expect(env.backend.requests[0]!.body).not.toHaveProperty('anonymous');
    const state = await client.logout();
    expect(state).toMatchObject({ subscribed: true, synced: true });
    expect(methods()).toEqual(['POST /subscriptions', 'POST /subscriptions']);
    expect(env.backend.requests[1]!.body).toMatchObject({ anonymous: true });
    // A later page load: nothing changed, nothing sent; a change of attributes stays anonymous.
    createPushClient(options());
    await settle(100);
    expect(env.backend.requests).toHaveLength(2);
    const tagged = options({ attributes: { topic: 'news' } });
    await createPushClient(options()).setAttributes({ topic: 'news' });
    expect(env.backend.requests[2]!.body).toMatchObject({ anonymous: true, attributes: { topic: 'news' } });
    // Login registers even though nothing else changed, and without the flag.
    const next = createPushClient(tagged);
    await settle(100);
    await next.login();
    expect(env.backend.requests).toHaveLength(4);
    expect(env.backend.requests[3]!.body).toMatchObject({ anonymous: false });
    createPushClient(tagged);
    await settle(100);
    expect(env.backend.requests).toHaveLength(4);
  });

  it('drops the subscription on logout when asked to', async () => {
    const client = createPushClient(options());
    await client.subscribe();
    expect(await client.logout({ unsubscribe: true })).toMatchObject({ subscribed: false });
    expect(methods()).toEqual(['POST /subscriptions', 'DELETE /subscriptions/s1']);
  });

  it('sends nothing on logout or login where nothing is subscribed', async () => {
    const client = createPushClient(options());
    await client.logout();
    await client.login();
    expect(env.backend.requests).toEqual([]);
  });
});

describe('setAttributes', () => {
  it('re-registers only when the attributes changed', async () => {
    const client = createPushClient(options({ attributes: { a: 1 } }));
    await client.subscribe();
    await client.setAttributes({ a: 1 });
    expect(env.backend.requests).toHaveLength(1);
    await client.setAttributes({ a: 2, tag: 'x' });
    expect(env.backend.requests).toHaveLength(2);
    expect(env.backend.requests[1]!.body).toMatchObject({ attributes: { a: 2, tag: 'x' } });
  });

  it('keeps what the visitor chose across loads of a client created without attributes, and getState shows it', async () => {
    const client = createPushClient(options({ attributes: { lang: 'fr' } }));
    await client.subscribe();
    await client.setAttributes({ sports: true });
    // Two more loads, the client made as the docs show it (no attributes).
    createPushClient(options());
    await settle(100);
    const reloaded = createPushClient(options());
    await settle(100);
    expect(methods()).toEqual(['POST /subscriptions', 'POST /subscriptions']);
    expect(env.backend.requests[1]!.body).toMatchObject({ attributes: { sports: true } });
    expect(await reloaded.getState()).toMatchObject({ subscribed: true, synced: true, attributes: { sports: true } });
  });

  it('registers a replaced subscription (another VAPID key) with the attributes the visitor chose', async () => {
    const first = createPushClient(options({ vapidPublicKey: OTHER_KEY.text }));
    await first.subscribe();
    await first.setAttributes({ sports: true });
    createPushClient(options());
    await until(() => env.backend.requests.length == 4);
    expect(methods().slice(2)).toEqual(['DELETE /subscriptions/s1', 'POST /subscriptions']);
    expect(env.backend.requests[3]!.body).toMatchObject({ attributes: { sports: true } });
  });

  it("merges the options over what the visitor chose; setAttributes({}) clears the visitor's (the zone and language are the browser's, recorded again)", async () => {
    const client = createPushClient(options());
    await client.subscribe();
    await client.setAttributes({ sports: true, lang: 'fr' });
    const next = createPushClient(options({ attributes: { lang: 'en' } }));
    await until(() => env.backend.requests.length == 3);
    expect(env.backend.requests[2]!.body).toMatchObject({ attributes: { sports: true, lang: 'en' } });
    await next.setAttributes({});
    const locale = { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, language: navigator.language };
    expect((env.backend.requests[3]!.body as { attributes: object }).attributes).toEqual(locale);
    expect((await next.getState()).attributes).toEqual(locale);
  });

  it('sends attributes set before subscribing with the subscription', async () => {
    const client = createPushClient(options());
    await client.setAttributes({ sports: true });
    expect(env.backend.requests).toEqual([]);
    await client.subscribe();
    expect(env.backend.requests[0]!.body).toMatchObject({ attributes: { sports: true } });
  });

  it('refuses attributes that are not flat strings, numbers and booleans', async () => {
    const client = createPushClient(options());
    expect(await caught(client.setAttributes({ a: {} } as never))).toMatchObject({
      code: 'invalid-option',
      details: { option: 'attributes', reason: 'must be a flat object of strings, numbers and booleans' },
    });
  });
});

describe('sealed', () => {
  it('registers a P-256 public key and a 16-byte auth secret, and keeps the private key non-extractable', async () => {
    await createPushClient(options({ sealed: true })).subscribe();
    const { sealKey } = env.backend.requests[0]!.body as { sealKey: { p256dh: string; auth: string } };
    expect(Buffer.from(sealKey.p256dh, 'base64url')).toHaveLength(65);
    expect(Buffer.from(sealKey.p256dh, 'base64url')[0]).toBe(4);
    expect(Buffer.from(sealKey.auth, 'base64url')).toHaveLength(16);
    const stored = await withTidingsDB((db) => getValue(db, 'sealKey'));
    expect(stored!.publicKey).toEqual(sealKey);
    expect(stored!.privateKey.extractable).toBe(false);
    expect(stored!.privateKey.algorithm).toMatchObject({ name: 'ECDH', namedCurve: 'P-256' });
  });

  it('keeps the same seal key on the next load, so nothing is sent again', async () => {
    await createPushClient(options({ sealed: true })).subscribe();
    createPushClient(options({ sealed: true }));
    await settle(150);
    expect(env.backend.requests).toHaveLength(1);
  });
});

describe('onMessage', () => {
  it('receives the data of push-data messages and ignores anything else', async () => {
    const client = createPushClient(options());
    const got: unknown[] = [];
    const stop = client.onMessage((data, envelope) => got.push([data, envelope.id]));
    const envelope = { v: 1, id: 'm1', data: { n: 1 } };
    env.browser.container.post({ source: 'tidings', kind: 'push-data', data: { n: 1 }, envelope });
    env.browser.container.post({ source: 'other', kind: 'push-data', data: 'x', envelope });
    env.browser.container.post({ source: 'tidings', kind: 'subscription-changed', endpoint: null });
    env.browser.container.post('tidings');
    env.browser.container.post(null);
    stop();
    env.browser.container.post({ source: 'tidings', kind: 'push-data', data: 2, envelope });
    expect(got).toEqual([[{ n: 1 }, 'm1']]);
  });
});

describe('onNotificationClick', () => {
  it('receives the clicks the worker reports and ignores anything else', async () => {
    const client = createPushClient(options());
    const got: unknown[] = [];
    const stop = client.onNotificationClick((click) => got.push(click));
    const click = { source: 'tidings', kind: 'notification-click', action: 'reply', messageId: 'm1', url: 'https://site.example/a/1', data: { n: 1 } };
    env.browser.container.post(click);
    env.browser.container.post({ ...click, source: 'other' });
    env.browser.container.post({ ...click, kind: 'push-data' });
    env.browser.container.post({ source: 'tidings', kind: 'notification-clicked', url: '/' });
    env.browser.container.post('notification-click');
    env.browser.container.post(undefined);
    stop();
    env.browser.container.post(click);
    expect(got).toEqual([expect.objectContaining({ action: 'reply', messageId: 'm1', url: 'https://site.example/a/1', data: { n: 1 } })]);
  });

  it('keeps each listener apart: stopping one leaves the others', () => {
    const client = createPushClient(options());
    const first = vi.fn();
    const second = vi.fn();
    client.onNotificationClick(first)();
    client.onNotificationClick(second);
    env.browser.container.post({ source: 'tidings', kind: 'notification-click', action: '', url: '/' });
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('returns a function that does nothing where push is unsupported', () => {
    env.browser.uninstall();
    const stop = createPushClient(options()).onNotificationClick(() => {});
    expect(stop).toBeTypeOf('function');
    expect(stop()).toBeUndefined();
  });
});

describe('registerServiceWorker', () => {
  it("by default ('subscribe') registers nothing until subscribe()", async () => {
    createPushClient(options({ registerServiceWorker: 'subscribe' }));
    createPushClient(options());
    await settle();
    expect(env.browser.container.registerCalls).toEqual([]);
  });

  it("'load' registers the worker once the page has loaded, asking nothing and subscribing no one", async () => {
    expect(document.readyState).toBe('complete');
    const client = createPushClient(options({ registerServiceWorker: 'load', serviceWorker: '/app/sw.js', scope: '/' }));
    await until(async () => !!(await env.browser.container.getRegistration('/'))?.active);
    expect(env.browser.container.registerCalls).toEqual(['/app/sw.js']);
    const [registration] = env.browser.container.registrations.values();
    expect(registration!.scope).toBe(new URL('/', location.href).href);
    expect(registration!.pushManager.subscribeCalls).toEqual([]);
    expect(env.browser.prompts).toBe(0);
    expect(env.backend.requests).toEqual([]);
    expect(await client.getState()).toMatchObject({ subscribed: false, lastError: undefined });
  });

  it("'load' waits for the load event when the page is still loading", async () => {
    const readyState = vi.spyOn(document, 'readyState', 'get').mockReturnValue('interactive');
    createPushClient(options({ registerServiceWorker: 'load' }));
    await settle();
    expect(env.browser.container.registerCalls).toEqual([]);
    readyState.mockRestore();
    window.dispatchEvent(new Event('load'));
    await until(() => env.browser.container.registerCalls.length == 1);
    expect(env.browser.container.registerCalls).toEqual(['/sw.js']);
  });

  it("'load' leaves a registration the site made alone", async () => {
    const registration = await env.browser.container.register('/push/worker.js', { scope: '/push/' });
    createPushClient(options({ registerServiceWorker: 'load', serviceWorker: registration as unknown as ServiceWorkerRegistration }));
    await settle();
    expect(env.browser.container.registerCalls).toEqual(['/push/worker.js']);
  });

  it("'load' reports a registration that fails through getState and onStateChange, without throwing", async () => {
    env.browser.container.registerError = new TypeError('404 for /sw.js');
    const client = createPushClient(options({ registerServiceWorker: 'load' }));
    const states: { lastError?: string | undefined }[] = [];
    client.onStateChange((state) => states.push(state));
    await until(() => states.length > 0);
    expect(states[0]!.lastError).toMatch(/^worker-failed TypeError: 404 for \/sw.js/);
    expect((await client.getState()).lastError).toMatch(/^worker-failed/);
  });

  it("'load' registers the worker where push is unsupported but service workers are not (an iOS tab)", async () => {
    delete (window as unknown as Record<string, unknown>).PushManager;
    const client = createPushClient(options({ registerServiceWorker: 'load' }));
    await until(() => env.browser.container.registerCalls.length == 1);
    expect((await client.getState()).supported).toBe(false);
  });
});

describe('onStateChange', () => {
  it('reports subscribing, a permission change and a subscription change from the worker', async () => {
    const client = createPushClient(options());
    const states: unknown[] = [];
    client.onStateChange((state) => states.push(state));
    await client.subscribe();
    await until(() => states.length >= 1);
    expect(states.at(-1)).toMatchObject({ subscribed: true, synced: true });

    env.browser.permission = 'denied';
    env.browser.permissionStatus.dispatchEvent(new Event('change'));
    await until(() => states.length >= 2);
    expect(states.at(-1)).toMatchObject({ permission: 'denied' });

    env.browser.container.post({ source: 'tidings', kind: 'subscription-changed', endpoint: null });
    await until(() => states.length >= 3);
  });

  it('stops calling after the returned function is called', async () => {
    const client = createPushClient(options());
    const fn = vi.fn();
    client.onStateChange(fn)();
    await client.subscribe();
    await settle();
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('diagnose', () => {
  it('describes support, worker, subscription by origin only, key match and backend sync', async () => {
    const client = createPushClient(options());
    await client.subscribe();
    const d = await client.diagnose();
    expect(d).toMatchObject({
      supported: true,
      secureContext: true,
      permission: 'granted',
      subscribed: true,
      synced: true,
      homeScreenRequired: false,
      apis: { serviceWorker: true, PushManager: true, Notification: true, locks: true, indexedDB: true },
      subscription: { endpointOrigin: 'https://push.example', keyMatches: true, expirationTime: null },
      backend: { backendId: 's1' },
      errors: [],
    });
    expect(d.worker).toMatchObject({ state: 'activated' });
    expect(JSON.stringify(d)).not.toContain('/ep/');
  });

  it('never throws, even when the worker registry fails', async () => {
    const client = createPushClient(options());
    env.browser.container.getRegistration = () => Promise.reject(new Error('registry broke'));
    const d = await client.diagnose();
    expect(d.errors.join()).toMatch(/registry broke/);
    expect(d.worker).toBeNull();
  });

  it('reports the storage failure the worker answers, without throwing', async () => {
    const client = createPushClient(options());
    await client.subscribe();
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    const d = await client.diagnose();
    expect(d.errors.join()).toMatch(/storage-failed/);
    expect(d.apis.indexedDB).toBe(false);
    expect(d.worker).toMatchObject({ state: 'activated' });
  });

  it('reports the queued operation and its last error', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    env.backend.script.push(500, 500, 500);
    const client = createPushClient(options());
    await client.subscribe();
    vi.restoreAllMocks();
    expect((await client.diagnose()).backend?.pending).toMatchObject({ op: 'register', attempts: 3 });
  }, 15_000);
});
