// TEST SUPPORT: what strangers can put in front of the dashboard's viewer, written through
// the paths it really comes by. Browsers register through the push handler (as a page's
// fetch does) with hostile values of the attributes the site lets them set; a CRM sync
// tags them with hostile keys (`push.setAttributes`); the viewer, named by `authorize`
// with a hostile name, sends hostile titles, bodies, urls, types and data through the
// dashboard's own POST; a push service stand-in (test/support/pushHost.ts) answers each
// push with hostile text, which the send log keeps as the failure's sample.
//
// A few fields the real server fills only from its own vocabulary (push-service and
// browser names, failure causes and hosts) can hold anything in a store of a site's own
// making: `seedForeignShapes` writes such rows into the store directly, and says so.
import type { SubscriptionStore } from '../../../src/server/index.js';
import { startPushHost, type PushHost } from '../pushHost.js';
import { newReceiver } from '../receiver.js';
import { hostile, hostileTexts, hostileUrls, PWNED } from './hostile.js';

/** Attribute keys a browser may set on the hostile site (its `clientAttributes`). */
export const HOSTILE_CLIENT_ATTRIBUTES = ['topic', 'note'];

/** The identity every hostile registration gets from the site's `identify`: the Audience page finds them by it. */
export const HOSTILE_USER = 'mallory';

/** Hostile texts short enough to be attribute keys (64 characters at most). */
export const hostileKeys = hostileTexts.filter((text) => text.length <= 64);

/**
 * A push service stand-in on loopback that refuses every push with a 400 whose body is a
 * hostile text, a different one each time (the send log keeps one per send as `sample`).
 */
export async function startHostilePushHost(): Promise<PushHost & { answered(): number }> {
  let answered = 0;
  const host = await startPushHost('HTTP/1.1', (request, response) => {
    request.resume();
    request.on('end', () => {
      const text = hostile(answered++);
      (response as import('node:http').ServerResponse).writeHead(400, { 'content-type': 'text/html' }).end(text);
    });
  });
  return Object.assign(host, { answered: () => answered });
}

export interface HostileParts {
  /** POSTs to the push handler's base (`/api/push`), as a browser on the site would. */
  register(body: unknown): Promise<Response>;
  /** POSTs to the dashboard's data base (`/admin/api`) as the signed-in viewer. */
  dashboard(path: string, body: unknown): Promise<Response>;
  /** `push.setAttributes` of the site's push server. */
  setAttributes(to: unknown, attributes: Record<string, string>): Promise<number>;
  /** A subscription at the local push service (its keys are real: sends to it succeed). */
  subscribe(): Promise<{ endpoint: string; keys: { p256dh: string; auth: string } }>;
  host: PushHost;
}

/**
 * Registers `subscribers` browsers at the local push service and 2 at the hostile push
 * host, each with hostile attribute values, tags them with hostile keys, and sends one
 * message per hostile text through the dashboard. Resolves to the send ids, in order.
 */
export async function seedHostile(parts: HostileParts, { subscribers = 4 }: { subscribers?: number } = {}): Promise<string[]> {
  const endpoints: { endpoint: string; keys: { p256dh: string; auth: string } }[] = [];
  for (let i = 0; i < subscribers; i++) endpoints.push(await parts.subscribe());
  for (let i = 0; i < 2; i++) endpoints.push({ endpoint: `${parts.host.origin}/push/${i}`, keys: (await newReceiver()).keys });
  for (const [i, subscription] of endpoints.entries()) {
    const answer = await parts.register({ subscription, attributes: { topic: hostile(i), note: hostile(i + 5) } });
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`registration ${i}: ${answer.status} ${await answer.text()}`);
  }
  for (const [i, key] of hostileKeys.entries()) {
    const tagged = await parts.setAttributes({ attributes: { user: HOSTILE_USER } }, { [key]: hostile(i + 3) });
    if (tagged !== endpoints.length) throw new Error(`setAttributes tagged ${tagged}`);
  }
  const ids: string[] = [];
  for (const [i, title] of hostileTexts.entries()) {
    const url = hostileUrls[i % hostileUrls.length]!;
    const body = {
      envelope: {
        v: 1,
        type: hostile(i + 1),
        notification: { title, body: hostile(i + 2), url, icon: url, image: `javascript:window.${PWNED}=30`, actions: [{ action: hostile(i + 3).slice(0, 60), title: hostile(i + 4), url }] },
        data: { [hostile(i + 4)]: hostile(i + 5) },
      },
      to: null,
      confirm: endpoints.length,
      options: { ttl: 600 },
    };
    const answer = await parts.dashboard('/send', body);
    if (answer.status !== 200) throw new Error(`send ${i}: ${answer.status} ${await answer.text()}`);
    ids.push(((await answer.json()) as { id: string }).id);
  }
  return ids;
}

/**
 * Rows the real server cannot write but a store of a site's own making may hold: a send
 * whose push-service names, failure causes and hosts are hostile text, and a subscription
 * whose browser family is, with a verified event so it shows in the funnel by browser.
 * Written into `store` directly. Resolves to that send's id.
 */
export async function seedForeignShapes(store: SubscriptionStore): Promise<string> {
  const id = 'foreign-shapes';
  const { id: subscriptionId } = await store.saveSubscription(
    { subscription: { endpoint: 'https://fcm.googleapis.com/fcm/send/foreign', keys: { p256dh: 'p', auth: 'a' } } },
    () => ({ attributes: { user: HOSTILE_USER }, browser: hostile(1) }),
  );
  const createdAt = Date.now() - 60_000;
  await store.createSend({
    id,
    title: 'A row from a foreign store',
    envelope: { v: 1, id, notification: { title: 'A row from a foreign store' } },
    audience: null,
    options: {},
    via: 'send',
    state: 'running',
    createdAt,
    startedAt: createdAt,
    targeted: 0,
    sent: 0,
    gone: 0,
    failed: 0,
    pruned: 0,
    capped: 0,
    deferred: 0,
    failures: [],
  });
  await store.updateSend(id, {
    state: 'done',
    finishedAt: createdAt + 1000,
    counts: { targeted: 3, sent: 2, failed: 1 },
    services: { [hostile(0)]: { sent: 2, failed: 1 }, [hostile(2)]: { sent: 0, failed: 0 } },
    failures: [{ cause: hostile(9), host: hostile(10), count: 1, sample: hostile(11) }],
  });
  await store.recordEvents({ subscriptionId, countSince: 0, events: [{ id: `${id}-shown`, type: 'shown', messageId: id, at: Date.now() }] });
  return id;
}
