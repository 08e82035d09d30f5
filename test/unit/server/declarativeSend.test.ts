import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newReceiver } from '../../support/receiver.js';
import { createPushServer, generateVapidKeys, memoryStore, type PushServer, type SubscriptionStore } from '../../../src/server/index.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';

// send(envelope, { declarative: true }) through the real local push service and `web-push`.

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const siteUrl = 'https://site.example/';
let service: PushService;
let store: SubscriptionStore;
let server: PushServer;
beforeEach(async () => {
  service = await startPushService();
  store = memoryStore();
  server = createPushServer({ vapid, store, siteUrl, retries: 0, timeout: 2000, allowLoopbackEndpoints: true });
});
afterEach(() => service.close());

describe('send(…, { declarative: true })', () => {
  it('delivers the declarative JSON, with the id alongside for the replay guard', async () => {
    const subscription = await service.subscribe(vapid.publicKey);
    await store.saveSubscription({ subscription });
    const result = await server.send(
      { v: 1, id: 'd1', appBadge: 2, notification: { title: 'Hi', url: '/articles/1' } },
      { declarative: true },
    );
    expect(result).toMatchObject({ id: 'd1', sent: 1, failed: 0 });
    const [text] = await service.received(subscription.endpoint);
    expect(JSON.parse(text!)).toEqual({
      web_push: 8030,
      id: 'd1',
      app_badge: 2,
      mutable: true,
      notification: { title: 'Hi', navigate: 'https://site.example/articles/1', app_badge: 2, mutable: true },
      // The caller's id: marked as a possible repeat (markRetry).
      retry: true,
    });
  });

  it('sends it unsealed to a subscriber with a seal key, since the browser must read it', async () => {
    const subscription = await service.subscribe(vapid.publicKey);
    await store.saveSubscription({ subscription, sealKey: (await newReceiver()).keys });
    await server.send({ v: 1, id: 'd2', notification: { title: 'Hi' } }, { declarative: true });
    const [text] = await service.received(subscription.endpoint);
    expect(JSON.parse(text!)).toMatchObject({ web_push: 8030, notification: { navigate: siteUrl } });
  });

  it('refuses seal: true with it, before anything is sent', async () => {
    const subscription = await service.subscribe(vapid.publicKey);
    await store.saveSubscription({ subscription });
    await expect(server.send({ v: 1, notification: { title: 'x' } }, { declarative: true, seal: true })).rejects.toMatchObject({
      code: 'invalid-option',
      details: { option: 'seal', reason: 'a sealed message cannot be declarative' },
    });
    await expect(server.send({ v: 1, sealed: 'AAAA', notification: { title: 'x' } }, { declarative: true })).rejects.toMatchObject({
      code: 'invalid-option',
      details: { option: 'declarative' },
    });
    expect(service.messages(subscription.endpoint)).toEqual([]);
  });

  it('refuses a message too large for one push (it cannot be fetched)', async () => {
    await expect(server.send({ v: 1, notification: { title: 'x', body: 'é'.repeat(2500) } }, { declarative: true })).rejects.toMatchObject({
      code: 'invalid-option',
      details: { option: 'declarative' },
    });
  });

  it('refuses a relative URL when the server has no siteUrl', async () => {
    const bare = createPushServer({ vapid, store, allowLoopbackEndpoints: true });
    await expect(bare.send({ v: 1, notification: { title: 'x', url: '/a' } }, { declarative: true })).rejects.toMatchObject({
      code: 'invalid-option',
      details: { option: 'siteUrl' },
    });
  });

  it.each(['/relative', 'javascript:alert(1)', 'not a url', 42])('createPushServer refuses siteUrl %s', (value) => {
    expect(() => createPushServer({ vapid, store, siteUrl: value as string })).toThrow(
      expect.objectContaining({ code: 'invalid-option', details: expect.objectContaining({ option: 'siteUrl' }) }),
    );
  });
});
