import { afterEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore } from '../../../src/server/index.js';
import type { Envelope } from '../../../src/shared/protocol.js';
import { newReceiver, openText } from '../../support/receiver.js';
import { certificate, protocols, startPushHost, type PushHost } from '../../support/pushHost.js';

// A push that timed out may have reached the push service all the same: the attempt after
// it is marked `retry: true`, so the worker checks the ids it has seen before it shows it
// (handlePush) instead of showing a second copy at once.
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
let host: PushHost | undefined;
afterEach(() => host?.close());

describe.each(protocols)('over %s', (protocol) => {
  it('marks the attempt after one that went unanswered, and only that one', async () => {
    const bodies: Buffer[] = [];
    let hangNext = false;
    host = await startPushHost(protocol, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push(Buffer.concat(chunks));
        // Taken, but never answered: to the sender it is a timeout.
        if (hangNext) hangNext = false;
        else response.writeHead(201).end();
      });
    });
    const receiver = await newReceiver();
    const store = memoryStore();
    const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, timeout: 400, retries: 1, maxRetryDelay: 10, ca: certificate.ca });
    await store.saveSubscription({ subscription: { endpoint: `${host.origin}/push/1`, keys: receiver.keys } });

    // The host has answered before, so a silence is worth a retry.
    expect(await push.send({ v: 1, notification: { title: 'First' } })).toMatchObject({ sent: 1 });
    hangNext = true;
    const second = await push.send({ v: 1, notification: { title: 'Second' } });
    expect(second).toMatchObject({ sent: 1, failed: 0 });

    const received = await Promise.all(bodies.map(async (body) => JSON.parse(await openText(new Uint8Array(body), receiver)) as Envelope));
    expect(received.map((envelope) => [envelope.notification?.title, envelope.id === second.id, envelope.retry])).toEqual([
      ['First', false, undefined],
      ['Second', true, undefined],
      ['Second', true, true],
    ]);
  });
});
