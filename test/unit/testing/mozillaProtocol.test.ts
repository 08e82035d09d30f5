import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { WebSocket } from 'ws';
import { newReceiver, openText } from '../../support/receiver.js';
import { generateVapidKeys } from '../../../src/server/index.js';
import { fromBase64Url } from '../../../src/shared/base64url.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';

type Frame = Record<string, unknown>;

/** A scripted stand-in for Firefox's PushServiceWebSocket: frames in, frames out, in order. */
class ScriptedClient {
  private frames: Frame[] = [];
  private waiters: ((frame: Frame) => void)[] = [];
  closed: Promise<number>;
  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) => socket.on('close', (code) => resolve(code)));
  }
  static async connect(url: string): Promise<ScriptedClient> {
    const socket = new WebSocket(url, 'push-notification');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return new ScriptedClient(socket);
  }
  send(frame: Frame | string): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }
  next(): Promise<Frame> {
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  async request(frame: Frame): Promise<Frame> {
    this.send(frame);
    return this.next();
  }
  pending(): number {
    return this.frames.length;
  }
  close(): Promise<number> {
    this.socket.close();
    return this.closed;
  }
}

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
// Firefox sends the application server key base64url *with* padding.
const paddedKey = Buffer.from(fromBase64Url(vapid.publicKey)!).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

let service: PushService;
const clients: ScriptedClient[] = [];
beforeEach(async () => {
  service = await startPushService();
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await service.close();
});

async function connect(): Promise<ScriptedClient> {
  const client = await ScriptedClient.connect(service.webSocketUrl);
  clients.push(client);
  return client;
}

async function registered(client: ScriptedClient) {
  const channelID = randomUUID();
  const reply = await client.request({ messageType: 'register', channelID, key: paddedKey });
  return { channelID, endpoint: reply.pushEndpoint as string, reply };
}

async function sendPush(endpoint: string, keys: { p256dh: string; auth: string }, payload: string, TTL = 60): Promise<number> {
  const request = webpush.generateRequestDetails({ endpoint, keys }, payload, { vapidDetails: vapid, TTL, contentEncoding: 'aes128gcm' });
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([k]) => k !== 'Content-Length').map(([k, v]) => [k, String(v)]));
  return (await fetch(endpoint, { method: 'POST', headers, body: new Uint8Array(request.body) })).status;
}

describe("Mozilla's WebSocket push protocol", () => {
  it('answers hello with a fresh uaid and use_webpush, and keeps a uaid the client sends', async () => {
    const first = await connect();
    const hello = await first.request({ messageType: 'hello', use_webpush: true, broadcasts: {} });
    expect(hello).toEqual({ messageType: 'hello', uaid: expect.stringMatching(/^[0-9a-f]{32}$/), status: 200, use_webpush: true, broadcasts: {} });
    const second = await connect();
    expect(await second.request({ messageType: 'hello', uaid: 'my-profile-uaid', use_webpush: true })).toMatchObject({ uaid: 'my-profile-uaid' });
    expect(second.socket.protocol).toBe('push-notification');
  });

  it('registers a channel with a key and delivers a notification Firefox can decrypt', async () => {
    const client = await connect();
    await client.request({ messageType: 'hello', use_webpush: true });
    const { channelID, endpoint, reply } = await registered(client);
    expect(reply).toEqual({ messageType: 'register', channelID, status: 200, pushEndpoint: expect.stringMatching(new RegExp(`^${service.url}/wpush/v2/`)) });
    const browser = await newReceiver();
    expect(await sendPush(endpoint, browser.keys, 'hello firefox')).toBe(201);
    const notification = await client.next();
    expect(notification).toEqual({
      messageType: 'notification',
      channelID,
      version: expect.any(String),
      data: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
      headers: { encoding: 'aes128gcm' },
    });
    expect(await openText(notification.data as string, browser)).toBe('hello firefox');
  });

  it('gives every message a unique version and resends unacked ones after the next hello', async () => {
    const client = await connect();
    const { uaid } = await client.request({ messageType: 'hello', use_webpush: true });
    const { channelID, endpoint } = await registered(client);
    const browser = await newReceiver();
    await sendPush(endpoint, browser.keys, 'one');
    await sendPush(endpoint, browser.keys, 'two');
    const one = await client.next();
    const two = await client.next();
    expect(one.version).not.toBe(two.version);
    client.send({ messageType: 'ack', updates: [{ channelID, version: one.version, code: 100 }] });
    await client.close();

    const again = await connect();
    expect(await again.request({ messageType: 'hello', uaid, use_webpush: true })).toMatchObject({ uaid });
    const resent = await again.next();
    expect(resent).toMatchObject({ messageType: 'notification', channelID, version: two.version });
    again.send({ messageType: 'ack', updates: [{ channelID, version: two.version, code: 100 }] });
    // A ping round trip proves nothing else was queued behind it.
    expect(await again.request({})).toEqual({});
  });

  it('queues for a disconnected user agent, drops TTL 0, and delivers on reconnect', async () => {
    const client = await connect();
    const { uaid } = await client.request({ messageType: 'hello', use_webpush: true });
    const { endpoint, channelID } = await registered(client);
    await client.close();
    const browser = await newReceiver();
    expect(await sendPush(endpoint, browser.keys, 'now or never', 0)).toBe(201);
    expect(await sendPush(endpoint, browser.keys, 'kept')).toBe(201);
    const again = await connect();
    await again.request({ messageType: 'hello', uaid, use_webpush: true });
    const kept = await again.next();
    expect(await openText(kept.data as string, browser)).toBe('kept');
    expect(kept.channelID).toBe(channelID);
    expect(await again.request({})).toEqual({});
  });

  it('unregisters: later sends get 410', async () => {
    const client = await connect();
    await client.request({ messageType: 'hello', use_webpush: true });
    const { channelID, endpoint } = await registered(client);
    expect(await client.request({ messageType: 'unregister', channelID, code: 200 })).toEqual({ messageType: 'unregister', channelID, status: 200 });
    expect(await sendPush(endpoint, (await newReceiver()).keys, 'late')).toBe(410);
  });

  it('resets its user agents: the socket closes, the old uaid gets a new one, and old endpoints get 410', async () => {
    const client = await connect();
    const { uaid } = await client.request({ messageType: 'hello', use_webpush: true });
    const { endpoint } = await registered(client);
    const away = await connect();
    const { uaid: awayUaid } = await away.request({ messageType: 'hello', use_webpush: true });
    const { endpoint: awayEndpoint } = await registered(away);
    await away.close();
    const queued = await newReceiver();
    expect(await sendPush(awayEndpoint, queued.keys, 'held for later')).toBe(201);

    expect(service.resetUserAgents()).toBe(2);
    // The connection is dropped, so Firefox reconnects at once.
    expect(await client.closed).toBe(1006);
    expect(await sendPush(endpoint, (await newReceiver()).keys, 'late')).toBe(410);
    expect(await sendPush(awayEndpoint, queued.keys, 'late')).toBe(410);

    const again = await connect();
    const hello = await again.request({ messageType: 'hello', uaid, use_webpush: true });
    expect(hello.uaid).toMatch(/^[0-9a-f]{32}$/);
    expect(hello.uaid).not.toBe(uaid);
    const back = await connect();
    expect((await back.request({ messageType: 'hello', uaid: awayUaid, use_webpush: true })).uaid).not.toBe(awayUaid);
    // Nothing held before the reset is delivered after it, and the new uaid is kept from now on.
    expect(await back.request({})).toEqual({});
    await again.close();
    const later = await connect();
    expect(await later.request({ messageType: 'hello', uaid: hello.uaid, use_webpush: true })).toMatchObject({ uaid: hello.uaid });
  });

  it('refuses a bad channelID or key with a non-200 status', async () => {
    const client = await connect();
    await client.request({ messageType: 'hello', use_webpush: true });
    expect(await client.request({ messageType: 'register', channelID: 'NOT-A-UUID' })).toMatchObject({ status: 400 });
    expect(await client.request({ messageType: 'register', channelID: randomUUID(), key: 'AAAA' })).toMatchObject({ status: 400 });
  });

  it('closes on binary frames and on register before hello', async () => {
    const binary = await connect();
    binary.socket.send(Buffer.from([1, 2, 3]));
    expect(await binary.closed).toBe(1003);
    const early = await connect();
    early.send({ messageType: 'register', channelID: randomUUID() });
    expect(await early.closed).toBe(1002);
  });
});
