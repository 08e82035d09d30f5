import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPushWorker } from '../../../src/worker/createPushWorker.js';
import { getValue, openTidingsDB, type KeyValues } from '../../../src/worker/db.js';
import type { AdapterAnswer, AdapterCall, PageAnswer } from '../../../src/shared/protocol.js';
import { FakeEvent, installScope, type FakeScope } from './support/fakeScope.js';

// The page SDK's requests (sync, unsync, state, prompt), answered by the worker on the
// MessagePort each one carries. Real MessageChannels, fake-indexeddb, a fake backend.

const backend = 'https://site.example/api/push';
const subscription = { endpoint: 'https://push.example/ep/1', expirationTime: null, keys: { p256dh: 'p', auth: 'a' } };
const vapidPublicKey = 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';
const registration = { subscription, vapidPublicKey, attributes: { user: 'u1' } };
let s: FakeScope;
let status: number;

beforeEach(() => {
  status = 201;
  s = installScope({
    routes: [
      (request) =>
        request.url.startsWith(`${backend}/subscriptions`)
          ? request.method == 'POST' && status < 300
            ? Response.json({ id: 'b1' }, { status })
            : new Response(null, { status: status < 300 ? 204 : status })
          : undefined,
    ],
  });
});
afterEach(() => vi.restoreAllMocks());

interface Asked {
  /** Everything posted on the port, the ack first. */
  messages: unknown[];
  answer: PageAnswer | undefined;
}

/**
 * Posts `request` to a listening worker as a page of `url` would, and collects what
 * comes back on the port. `adapter` answers the worker's AdapterCalls, as the page does.
 */
async function ask(
  request: object,
  { url = 'https://site.example/page', adapter }: { url?: string; adapter?: (call: AdapterCall) => AdapterAnswer } = {},
): Promise<Asked> {
  const onMessage = s.listeners.get('message')![0]!;
  const { port1, port2 } = new MessageChannel();
  const asked: Asked = { messages: [], answer: undefined };
  const answered = new Promise<void>((resolve) => {
    port1.onmessage = ({ data, ports }) => {
      asked.messages.push(data);
      if ('call' in data) ports[0]!.postMessage(adapter!(data));
      if ('ok' in data) resolve((asked.answer = data));
    };
  });
  const event = Object.assign(new FakeEvent(), { data: { source: 'tidings', ...request }, source: { url }, ports: [port2] });
  onMessage(event);
  await event.settled();
  await Promise.race([answered, new Promise((wake) => setTimeout(wake, 50))]);
  port1.close();
  return asked;
}

async function read<K extends keyof KeyValues>(key: K) {
  const db = await openTidingsDB();
  const value = await getValue(db, key);
  db.close();
  return value;
}
const sent = () => s.requests.filter((r) => r.url.includes('/subscriptions')).map((r) => `${r.method} ${r.url.slice(backend.length)}`);
const route = { backend, timeout: 1000 };

describe('page requests', () => {
  beforeEach(() => void createPushWorker().listen());

  it("registers with the worker's configured backend, whatever backend the page message names", async () => {
    createPushWorker({ backend }).listen();
    // Only the first listener answers; this test's worker is the one registered last, so drop the others.
    s.listeners.set('message', s.listeners.get('message')!.slice(-1));
    const { answer } = await ask({ kind: 'sync', backend: 'https://evil.example/collect', timeout: 1000, registration });
    expect(answer).toEqual({ ok: true, value: true });
    expect(s.requests.map((r) => r.url)).toEqual([`${backend}/subscriptions`]);
  });

  it('acks at once, registers the subscription with the backend and answers true', async () => {
    const { messages, answer } = await ask({ kind: 'sync', ...route, headers: { 'x-csrf': 't' }, registration });
    expect(messages[0]).toEqual({});
    expect(answer).toEqual({ ok: true, value: true });
    expect(sent()).toEqual(['POST /subscriptions']);
    expect(s.requests[0]!.body).toEqual({ subscription, attributes: { user: 'u1' } });
    expect(s.fetch.mock.calls[0]![1]!.headers).toMatchObject({ 'x-csrf': 't' });
    expect(await read('sync')).toMatchObject({ endpoint: subscription.endpoint, backendId: 'b1' });
  });

  it('sends nothing when the backend already has the registration', async () => {
    await ask({ kind: 'sync', ...route, registration });
    expect((await ask({ kind: 'sync', ...route, registration })).answer).toEqual({ ok: true, value: true });
    expect(sent()).toEqual(['POST /subscriptions']);
  });

  it('makes a seal key on a sealed sync, keeps its private half, and registers its public half', async () => {
    await ask({ kind: 'sync', ...route, registration: { ...registration, sealed: true } });
    const stored = await read('sealKey');
    expect(stored!.privateKey.extractable).toBe(false);
    expect(s.requests[0]!.body.sealKey).toEqual(stored!.publicKey);
    expect(Buffer.from(stored!.publicKey.auth, 'base64url')).toHaveLength(16);
  });

  it('answers false and keeps the registration queued when the backend is down; state reports it', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    status = 503;
    expect((await ask({ kind: 'sync', ...route, registration })).answer).toEqual({ ok: true, value: false });
    const { answer } = await ask({ kind: 'state' });
    expect(answer).toMatchObject({ ok: true, value: { pending: { op: 'register', attempts: 3, lastError: expect.stringMatching(/503/) } } });
    status = 201;
    expect((await ask({ kind: 'sync', ...route })).answer).toEqual({ ok: true, value: true });
    expect(await read('pending')).toBeUndefined();
  }, 15_000);

  it('answers a 4xx as the TidingsError the page throws', async () => {
    status = 422;
    expect((await ask({ kind: 'sync', ...route, registration })).answer).toEqual({
      ok: false,
      error: { code: 'backend-failed', details: { status: 422 } },
    });
  });

  it('deletes the registration on unsync', async () => {
    await ask({ kind: 'sync', ...route, registration });
    expect((await ask({ kind: 'unsync', ...route })).answer).toEqual({ ok: true, value: true });
    expect(sent()).toEqual(['POST /subscriptions', 'DELETE /subscriptions/b1']);
    expect(await read('sync')).toBeUndefined();
  });

  it("calls the page's adapter through the port when the page has no backend URL", async () => {
    const calls: AdapterCall[] = [];
    const adapter = (call: AdapterCall): AdapterAnswer => (calls.push(call), { ok: true, value: { id: 'a1' } });
    expect((await ask({ kind: 'sync', timeout: 1000, registration }, { adapter })).answer).toEqual({ ok: true, value: true });
    expect(calls).toEqual([{ call: 'register', arg: { subscription, attributes: { user: 'u1' } } }]);
    expect(sent()).toEqual([]);
    await ask({ kind: 'unsync', timeout: 1000 }, { adapter });
    expect(calls[1]).toEqual({ call: 'unregister', arg: 'a1' });
  });

  it("treats an adapter's status like the HTTP answer", async () => {
    const adapter = (): AdapterAnswer => ({ ok: false, error: { message: 'nope', status: 403 } });
    expect((await ask({ kind: 'sync', timeout: 1000, registration }, { adapter })).answer).toMatchObject({
      ok: false,
      error: { code: 'backend-failed', details: { status: 403 } },
    });
  });

  it('records "later" on the prompt back-off: 3, 7, then 30 days', async () => {
    expect((await ask({ kind: 'prompt' })).answer).toEqual({ ok: true, value: undefined });
    const days = [];
    for (let i = 0; i < 4; i++) {
      const { answer } = await ask({ kind: 'prompt', later: true });
      const { laters, nextAt } = (answer as { value: { laters: number; nextAt: number } }).value;
      days.push([laters, Math.round((nextAt - Date.now()) / 86_400_000)]);
    }
    expect(days).toEqual([[1, 3], [2, 7], [3, 30], [4, 30]]);
    expect((await ask({ kind: 'prompt' })).answer).toMatchObject({ value: { laters: 4 } });
  });

  it('answers storage-failed where IndexedDB is refused', async () => {
    vi.stubGlobal('indexedDB', undefined);
    expect((await ask({ kind: 'state' })).answer).toMatchObject({ ok: false, error: { code: 'storage-failed' } });
  });

  it('answers through handleMessage too, for workers that wire their own listeners', async () => {
    const worker = createPushWorker();
    s.listeners.set('message', [worker.handleMessage as (event: unknown) => void]);
    expect((await ask({ kind: 'prompt' })).messages).toEqual([{}, { ok: true, value: undefined }]);
  });

  it('ignores requests from other origins and messages that are not tidings ones', async () => {
    expect((await ask({ kind: 'state' }, { url: 'https://evil.example/' })).messages).toEqual([]);
    expect((await ask({ kind: 'state' }, { url: 'https://site.example.evil.example/' })).messages).toEqual([]);
    expect((await ask({ kind: 'steal' })).messages).toEqual([]);
    expect(sent()).toEqual([]);
  });
});
