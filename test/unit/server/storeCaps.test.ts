import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CapCheck, SubscriptionStore } from '../../../src/server/index.js';
import { storeKinds } from '../../support/storeKinds.js';

// Frequency caps in every store: the record per subscription (capSends), checked and
// written in one step, bounded, and safe when two senders cap the same subscribers.

const day = 86_400_000;
const t0 = Date.UTC(2030, 0, 15, 8);
const check = (tag: string, at: number, max = 3, keep = max): CapCheck => ({ tag, at, cap: { max, per: day }, keep });

async function subscribe(store: SubscriptionStore, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { id } = await store.saveSubscription({ subscription: { endpoint: `https://push.example.net/${i}`, expirationTime: null, keys: { p256dh: `p${i}`, auth: `a${i}` } } });
    ids.push(id);
  }
  return ids;
}

describe.each(await storeKinds())('%s', (_name, create) => {
  let store: SubscriptionStore;
  beforeEach(() => {
    store = create();
  });
  afterEach(() => store.close());

  it('lets max pushes a window through, refuses the next, and counts a message once however often it is asked', async () => {
    const [a, b] = await subscribe(store, 2);
    for (let i = 0; i < 3; i++) expect(await store.capSends([a!], check(`m${i}`, t0 + i * 3_600_000))).toEqual([]);
    expect(await store.capSends([a!, b!], check('m3', t0 + 5 * 3_600_000))).toEqual([a]);
    // The same message asked again (a batch run twice): no new push, not refused.
    expect(await store.capSends([a!], check('m2', t0 + 6 * 3_600_000))).toEqual([]);
    expect((await store.getSubscription(a!))!.recentPushes!.map(([, tag]) => tag)).toHaveLength(3);
    // A day after the first, one has left the window.
    expect(await store.capSends([a!], check('m4', t0 + day + 1))).toEqual([]);
    expect(await store.capSends([a!], check('m5', t0 + day + 2))).toEqual([a]);
    expect((await store.getSubscription(b!))!.recentPushes).toHaveLength(1);
  });

  it('keeps the record bounded by the largest max, whatever the number of pushes', async () => {
    const [a] = await subscribe(store, 1);
    for (let i = 0; i < 40; i++) await store.capSends([a!], check(`m${i}`, t0 + i * day, 2, 4));
    const record = (await store.getSubscription(a!))!.recentPushes!;
    expect(record).toHaveLength(4);
    expect(record.at(-1)).toEqual([t0 + 39 * day, expect.any(String)]);
    // Kept through a re-registration of the same browser.
    await store.saveSubscription({ subscription: { endpoint: 'https://push.example.net/0', expirationTime: null, keys: { p256dh: 'p0', auth: 'a0' } }, attributes: { x: 1 } });
    expect((await store.getSubscription(a!))!.recentPushes).toEqual(record);
  });

  it('records without checking for a send with its cap turned off, and ignores unknown ids', async () => {
    const [a] = await subscribe(store, 1);
    for (let i = 0; i < 5; i++) expect(await store.capSends([a!, 'nobody', "x' OR 1=1 --"], { tag: `m${i}`, at: t0 + i, cap: null, keep: 3 })).toEqual([]);
    expect(await store.capSends([a!], check('capped', t0 + 10))).toEqual([a]);
    expect(await store.capSends([], check('none', t0))).toEqual([]);
  });

  it('lets one of two senders capping the same subscribers at the same moment through, never both', async () => {
    const ids = await subscribe(store, 50);
    const [first, second] = await Promise.all([store.capSends(ids, check('one', t0, 1)), store.capSends(ids, check('two', t0, 1))]);
    expect(first.length + second.length).toBe(50);
    expect(new Set([...first, ...second]).size).toBe(50);
  });
});
