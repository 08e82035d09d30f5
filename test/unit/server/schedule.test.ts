import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, overdueSince, type InsightEvent, type PushServer, type PushServerOptions, type SubscriptionStore } from '../../../src/server/index.js';
import { SEND_QUIET_MS } from '../../../src/server/stats/overdueSince.js';
import type { Envelope } from '../../../src/shared/protocol.js';
import { startPushService, type PushService } from '../../../src/testing/index.js';
import { storeKinds } from '../../support/storeKinds.js';

// Sends that wait, run by push servers' schedulers on every store, with a clock the test
// moves (hours pass in milliseconds): `at`, cancel, local time in each subscriber's zone
// and quiet hours.

const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const utc = (text: string) => Date.parse(text);
const iso = (ms: number) => new Date(ms).toISOString();

/** Waits (real time) until `check` holds, a few scheduler polls at most. */
async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !(await check()); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe.each(await storeKinds())('%s', (_name, create) => {
  let service: PushService;
  let store: SubscriptionStore;
  let clock: number;
  const pushes: PushServer[] = [];
  const make = (options: Partial<PushServerOptions> = {}) => {
    const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, now: () => clock, scheduler: { pollInterval: 20 }, ...options });
    pushes.push(push);
    return push;
  };
  beforeEach(async () => {
    service = await startPushService();
    store = create();
    clock = utc('2030-01-15T12:00:00Z');
  });
  afterEach(async () => {
    for (const push of pushes.splice(0)) await push.close();
    await service.close();
    await store.close();
  });

  async function subscriber(attributes: Record<string, string> = {}) {
    const subscription = await service.subscribe();
    const { id } = await store.saveSubscription({ subscription, attributes });
    return { id, endpoint: subscription.endpoint };
  }
  const received = async (endpoint: string): Promise<Envelope[]> => (await service.received(endpoint)).map((text) => JSON.parse(text) as Envelope);

  it('returns at once with the id of a send at a later time, and sends it when that time comes', async () => {
    const push = make();
    const { endpoint } = await subscriber();
    const at = clock + 5000;
    const result = await push.send({ v: 1, id: 'later', notification: { title: 'Later' } }, { at: new Date(at) });
    expect(result).toEqual({ id: 'later', sent: 0, gone: 0, failed: 0, pruned: 0, errors: [], scheduledAt: at });
    expect(await push.status('later')).toMatchObject({ state: 'scheduled', scheduledAt: at, via: 'send', options: { at: expect.anything() } });
    await settle();
    expect(await service.received(endpoint)).toEqual([]);
    clock = at;
    await until(async () => (await push.status('later'))?.state === 'done');
    expect(await push.status('later')).toMatchObject({ state: 'done', targeted: 1, sent: 1, startedAt: at, finishedAt: at });
    expect((await received(endpoint)).map((m) => m.id)).toEqual(['later']);
  });

  it('runs a scheduled send in one of several schedulers, once', async () => {
    const first = make();
    const others = [make(), make(), make()];
    const endpoints = await Promise.all(Array.from({ length: 30 }, async () => (await subscriber()).endpoint));
    await first.send({ v: 1, id: 'once', data: 1 }, { at: clock + 1000 });
    clock += 1000;
    await until(async () => (await first.status('once'))?.state === 'done');
    await settle();
    for (const endpoint of endpoints) expect(await service.received(endpoint)).toHaveLength(1);
    expect(await others[0]!.status('once')).toMatchObject({ targeted: 30, sent: 30 });
  });

  it('sends nothing of a send cancelled before its time, and keeps it cancelled; onEvent hears it end, once', async () => {
    const events: InsightEvent[] = [];
    const push = make({ onEvent: (event) => void events.push(event) });
    const { endpoint } = await subscriber();
    await push.send({ v: 1, id: 'never', data: 1 }, { at: clock + 60_000 });
    expect(await push.cancel('never')).toMatchObject({ state: 'cancelled', sent: 0, finishedAt: clock });
    expect(events).toEqual([expect.objectContaining({ kind: 'message.send.finished', id: 'never.finished', send: expect.objectContaining({ id: 'never', state: 'cancelled' }) })]);
    clock += 120_000;
    await settle();
    expect(await service.received(endpoint)).toEqual([]);
    expect(await push.status('never')).toMatchObject({ state: 'cancelled', targeted: 0 });
    // Cancelling again, or what finished, changes nothing; an unknown id is undefined.
    expect(await push.cancel('never')).toMatchObject({ state: 'cancelled' });
    expect(await push.cancel('nothing')).toBeUndefined();
    expect(events).toHaveLength(1);
  });

  it('delivers at 09:00 in each subscriber zone, the send zone for those without one, counting them deferred', async () => {
    const push = make();
    const people = {
      newYork: await subscriber({ timeZone: 'America/New_York' }),
      tokyo: await subscriber({ timeZone: 'Asia/Tokyo' }),
      paris: await subscriber({ timeZone: 'Europe/Paris' }),
      nowhere: await subscriber(),
    };
    const result = await push.send({ v: 1, id: 'nine', notification: { title: 'Good morning' } }, { localTime: '09:00', timeZone: 'America/Los_Angeles' });
    // The first 09:00 to come, somewhere in the world (12:00 UTC is 09:00 in Buenos Aires).
    expect(iso(result.scheduledAt!)).toBe('2030-01-15T12:00:00.000Z');
    const gets = async (who: keyof typeof people) => (await service.received(people[who].endpoint)).length;
    const steps: [string, keyof typeof people][] = [
      ['2030-01-15T14:00:00Z', 'newYork'],
      ['2030-01-15T17:00:00Z', 'nowhere'],
      ['2030-01-16T00:00:00Z', 'tokyo'],
      ['2030-01-16T08:00:00Z', 'paris'],
    ];
    const got = new Set<string>();
    for (const [at, who] of steps) {
      clock = utc(at) - 60_000;
      await settle();
      for (const other of Object.keys(people) as (keyof typeof people)[]) if (!got.has(other)) expect(await gets(other), `${other} before ${at}`).toBe(0);
      clock = utc(at);
      await until(async () => (await gets(who)) === 1);
      got.add(who);
      await until(async () => (await push.status('nine'))!.sent === got.size);
      expect((await push.status('nine'))!.state).toBe('running');
      // The time until the next slice is waiting, not a stopped process: the slice's end
      // wrote the next slice's time into the row, past which it would be overdue.
      await settle();
      const { nextWriteBy } = (await push.status('nine'))!;
      expect(nextWriteBy! - SEND_QUIET_MS, `the next slice after ${at}`).toBeGreaterThan(clock);
      expect(overdueSince((await push.status('nine'))!, nextWriteBy! - 1)).toBeUndefined();
    }
    // The send is done once the last zone's 09:00 has passed (a day after it began, at most),
    // whether or not anybody lives there.
    clock = utc('2030-01-16T12:00:00Z');
    await until(async () => (await push.status('nine'))?.state === 'done');
    expect(await push.status('nine')).toMatchObject({ targeted: 4, sent: 4, deferred: 4, finishedAt: clock });
  });

  it('holds a message for a subscriber in quiet hours until they end, and sends the rest at once', async () => {
    const push = make();
    const paris = await subscriber({ timeZone: 'Europe/Paris' });
    const auckland = await subscriber({ timeZone: 'Pacific/Auckland' });
    // 12:00 UTC: 13:00 in Paris, 01:00 in Auckland (quiet until 08:00 there, 19:00 UTC).
    await push.send({ v: 1, id: 'quiet', data: 1 }, { quietHours: ['22:00', '08:00'] });
    await until(async () => (await service.messages(paris.endpoint)).length === 1);
    await settle();
    expect(service.messages(auckland.endpoint)).toHaveLength(0);
    expect(await push.status('quiet')).toMatchObject({ state: 'running', sent: 1, deferred: 0 });
    clock = utc('2030-01-15T19:00:00Z') - 1;
    await settle();
    expect(service.messages(auckland.endpoint)).toHaveLength(0);
    clock += 1;
    await until(() => service.messages(auckland.endpoint).length === 1);
    // Done when the last quiet hours of the world have ended (08:00 at UTC+10, 22:00 UTC).
    clock = utc('2030-01-15T22:00:00Z');
    await until(async () => (await push.status('quiet'))?.state === 'done');
    expect(await push.status('quiet')).toMatchObject({ targeted: 2, sent: 2, deferred: 1 });
  });

  it('stops a running send when it is cancelled, after the pushes in flight, with counts that add up', async () => {
    const push = make({ concurrency: 5 });
    const endpoints = await Promise.all(Array.from({ length: 60 }, async () => (await subscriber()).endpoint));
    await push.send({ v: 1, id: 'stop', data: 1 }, { at: clock, perSecond: 20 });
    await until(async () => ((await push.status('stop'))?.sent ?? 0) > 0 || endpoints.some((e) => service.messages(e).length > 0));
    const cancelled = await push.cancel('stop');
    expect(cancelled!.state).toBe('cancelled');
    // The pushes in flight end; nothing starts after them.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const arrived = () => endpoints.filter((endpoint) => service.messages(endpoint).length > 0).length;
    const went = arrived();
    expect(went).toBeLessThan(60);
    await until(async () => (await push.status('stop'))!.sent === went);
    await settle();
    expect(arrived()).toBe(went);
    expect(await push.status('stop')).toMatchObject({ state: 'cancelled', sent: went, targeted: went, failed: 0, gone: 0 });
  });
});
