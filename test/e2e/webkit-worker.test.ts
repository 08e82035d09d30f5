import { createECDH, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { contractBackend, type ContractBackend } from './support/contractBackend.js';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { pushManagerStub } from '../../src/testing/index.js';
import { until } from './support/webkit.js';
import { InspectedWebKit, pushExpression, type InspectorTarget } from './support/webkitInspector.js';
import { eventsRoute, type BackendEvent } from './support/eventsRoute.js';

// The built dist/tidings-worker.iife.js in a real WebKit service worker: pushes are
// dispatched through the remote inspector (WebKit cannot receive a real one off Apple
// platforms), and the worker's whole pipeline runs for real: decode, unseal with
// WebKit's WebCrypto, the replay guard in IndexedDB, showNotification, the outbox to a
// real HTTP backend on loopback.
const vapidPublicKey = webpush.generateVAPIDKeys().publicKey;
const workerOptions = { backend: '/api/push', defaultNotification: { title: 'E2E default' } };

interface Listed {
  title: string;
  body: string;
  tag: string;
  data: { __tidings?: object };
}

describe('dist/tidings-worker.iife.js in WebKit', () => {
  let server: StaticServer;
  let backend: ContractBackend;
  let events: BackendEvent[];
  let browser: InspectedWebKit;
  let page: InspectorTarget;
  let worker: InspectorTarget;

  beforeAll(async () => {
    server = await startStaticServer();
    ({ events } = eventsRoute(server));
    backend = contractBackend(server);
    const sw = `/worker/sw.js?options=${encodeURIComponent(JSON.stringify(workerOptions))}`;
    browser = await InspectedWebKit.launch(`${server.origin}/worker/index.html?sw=${encodeURIComponent(sw)}`, { grant: server.origin });
    page = await browser.connect('WebPage');
    await until(() => page.evaluate<boolean>('window.__ready').catch(() => undefined), 'the test worker to be ready');
    worker = await browser.connect('ServiceWorker');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Pushes `payload` (an envelope, or raw text) and waits until the worker has done with it. */
  const push = async (payload: unknown) => {
    const handled = await worker.evaluate<number>(pushExpression(typeof payload == 'string' ? payload : JSON.stringify(payload)));
    // The worker took the event into its waitUntil: its pipeline ran.
    expect(handled).toBeGreaterThan(0);
  };
  const listed = () =>
    worker.evaluate<Listed[]>(
      'self.registration.getNotifications().then((list) => list.map(({ title, body, tag, data }) => ({ title, body, tag, data })))',
    );
  /** Titles the probe in the worker reported shown, in order, once there are `count`. */
  const shown = (count: number) =>
    until(async () => {
      const titles = await page.evaluate<string[]>('window.__shown.map((s) => s.title)');
      return titles.length >= count ? titles : undefined;
    }, `${count} notifications shown`);
  const eventOf = (type: string, messageId?: string, reason?: string) =>
    events.find((e) => e.type == type && e.messageId == messageId && (reason === undefined || e.reason == reason));
  let expected = 0;

  it("shows a pushed envelope's notification, listed by getNotifications() and marked as tidings' own", async () => {
    await push({ v: 1, id: 'n1', notification: { title: 'Hello', body: 'from WebKit', tag: 'n1', url: '/articles/1' } });
    await shown(++expected);
    const notification = (await listed()).find((n) => n.tag == 'n1');
    expect(notification).toMatchObject({ title: 'Hello', body: 'from WebKit' });
    expect(notification!.data.__tidings).toMatchObject({ messageId: 'n1', url: '/articles/1', analytics: true });
  });

  it('sends delivered and shown to POST {backend}/events of a real HTTP backend', async () => {
    await until(() => (eventOf('delivered', 'n1') && eventOf('shown', 'n1')) || undefined, 'the events of n1');
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('shows the default notification for a push that is not JSON, and reports why', async () => {
    await push('this is not json');
    expect((await shown(++expected)).at(-1)).toBe('E2E default');
    await until(() => eventOf('failed', undefined, 'json'), 'failed json');
  });

  /** What is on screen for message `id`: its notification, and any default shown for it. */
  const onScreenFor = async (id: string) => (await listed()).filter((n) => (n.data.__tidings as { messageId?: string } | undefined)?.messageId == id);

  it('leaves one notification on screen, with the original title, for a push delivered twice', async () => {
    const envelope = { v: 1, id: 'dup', notification: { title: 'Dup', body: 'the original' } };
    await push(envelope);
    await shown(++expected);
    // The second copy as the sender marks a batch that runs again.
    await push({ ...envelope, retry: true });
    await until(() => eventOf('failed', 'dup', 'replayed'), 'failed replayed');
    // Safari revokes the permission after a push that shows nothing (issue 13), so the
    // replay shows something: the same notification again, silently, in place of itself;
    // not the default beside it.
    expect((await shown(++expected)).at(-1)).toBe('Dup');
    expect(await onScreenFor('dup')).toMatchObject([{ title: 'Dup', body: 'the original' }]);
  });

  it('shows a replayed push the user closed again, from its envelope: still one, never the default', async () => {
    await worker.evaluate(`self.registration.getNotifications().then((list) => list.forEach((n) => n.data.__tidings?.messageId == 'dup' && n.close()))`);
    expect(await onScreenFor('dup')).toEqual([]);
    await push({ v: 1, id: 'dup', retry: true, notification: { title: 'Dup', body: 'the original' } });
    expect((await shown(++expected)).at(-1)).toBe('Dup');
    expect(await onScreenFor('dup')).toMatchObject([{ title: 'Dup', body: 'the original' }]);
    // Counted once; each replay says why.
    await until(() => (events.filter((e) => e.messageId == 'dup' && e.reason == 'replayed').length == 2 ? true : undefined), 'two replays');
    const types = events.filter((e) => e.messageId == 'dup').map((e) => e.type);
    expect([types.filter((t) => t == 'delivered'), types.filter((t) => t == 'shown')]).toEqual([['delivered'], ['shown']]);
  });

  it('leaves one notification on screen for an unmarked repeat too, shown before the guard knew', async () => {
    const envelope = { v: 1, id: 'dup2', notification: { title: 'Dup 2' } };
    await push(envelope);
    await shown(++expected);
    await push(envelope);
    expect((await shown(++expected)).at(-1)).toBe('Dup 2');
    await until(() => eventOf('failed', 'dup2', 'replayed'), 'failed replayed');
    expect(await onScreenFor('dup2')).toMatchObject([{ title: 'Dup 2' }]);
  });

  it("opens a sealed envelope with WebKit's WebCrypto: the page SDK registers the key, web-push seals", async () => {
    const stub = pushManagerStub({
      endpoint: `${server.origin}/push/ep/webkit`,
      keys: { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    });
    await page.evaluate(stub);
    const state = await page.evaluate(`(async () => {
      const serviceWorker = await navigator.serviceWorker.ready;
      const client = Tidings.createPushClient({ vapidPublicKey: '${vapidPublicKey}', backend: '/api/push', serviceWorker, sealed: true });
      return client.subscribe();
    })()`);
    expect(state).toMatchObject({ subscribed: true, synced: true });
    const { sealKey } = backend.bodies.at(-1) as { sealKey: { p256dh: string; auth: string } };
    const seal = (envelope: object, key = sealKey.p256dh) =>
      Buffer.from(webpush.encrypt(key, sealKey.auth, JSON.stringify(envelope), 'aes128gcm').cipherText).toString('base64url');

    await push({ v: 1, sealed: seal({ v: 1, id: 's1', notification: { title: 'Sealed secret', tag: 's1' } }) });
    expect((await shown(++expected)).at(-1)).toBe('Sealed secret');

    // Sealed to another key: refused, the default shown instead.
    const other = createECDH('prime256v1').generateKeys().toString('base64url');
    await push({ v: 1, id: 'x1', sealed: seal({ v: 1, id: 'x1' }, other) });
    expect((await shown(++expected)).at(-1)).toBe('E2E default');
    await until(() => eventOf('failed', 'x1', 'unseal'), 'failed unseal');
  });
});
