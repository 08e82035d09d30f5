import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPushServer, generateVapidKeys, memoryStore } from '../../../src/server/index.js';
import { newReceiver } from '../../support/receiver.js';

// A push service's answer becomes a send's `errors[].reason`, shown in logs, the CLI and
// the dashboard. Characters that hide or reorder text (an Arabic letter mark, a soft
// hyphen, a word joiner, a Mongolian vowel separator, tags, fillers) must not survive
// into it, whichever class of Unicode they come from. Through send(), against a push
// service on loopback that answers with each.
const vapid = { ...generateVapidKeys(), subject: 'mailto:ops@site.example' };
const hiders: [string, string][] = [
  ['U+061C arabic letter mark (Cf, bidi)', '\u061c'],
  ['U+00AD soft hyphen (Cf)', '\u00ad'],
  ['U+2060 word joiner (Cf)', '\u2060'],
  ['U+180E mongolian vowel separator (Cf)', '\u180e'],
  ['U+200B zero width space (Cf)', '\u200b'],
  ['U+202E right-to-left override (Cf)', '\u202e'],
  ['U+2067 right-to-left isolate (Cf)', '\u2067'],
  ['U+2061 function application (Cf)', '\u2061'],
  ['U+FFF9 interlinear annotation anchor (Cf)', '\ufff9'],
  ['U+E0041 tag latin capital A (Cf, astral)', '\u{e0041}'],
  ['U+1D173 musical symbol begin beam (Cf, astral)', '\u{1d173}'],
  ['U+2028 line separator (Zl)', '\u2028'],
  ['U+2029 paragraph separator (Zp)', '\u2029'],
  ['U+FE0F variation selector 16 (Mn, default ignorable)', '\ufe0f'],
  ['U+3164 hangul filler (Lo, default ignorable)', '\u3164'],
  ['U+115F hangul choseong filler (Lo, default ignorable)', '\u115f'],
  ['U+034F combining grapheme joiner (Mn, default ignorable)', '\u034f'],
  ['U+E000 private use (Co)', '\ue000'],
  ['U+F0000 private use, plane 15 (Co)', '\u{f0000}'],
  ['U+0378 unassigned (Cn)', '\u0378'],
  ['U+0085 next line (Cc)', '\u0085'],
  ['U+3000 ideographic space (Zs)', '\u3000'],
];

let server: Server;
let origin: string;
let answer = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(400).end(answer));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

async function reasonFor(text: string): Promise<string> {
  answer = text;
  const store = memoryStore();
  await store.saveSubscription({ subscription: { endpoint: `${origin}/push/1`, expirationTime: null, keys: (await newReceiver()).keys } });
  const push = createPushServer({ vapid, store, allowLoopbackEndpoints: true, retries: 0 });
  const { errors } = await push.send({ v: 1, notification: { title: 'x' } });
  return errors[0]!.reason;
}

describe("send()'s reasons keep nothing that can hide or reorder text", () => {
  it.each(hiders)('%s', async (_name, hider) => {
    const reason = await reasonFor(`pay${hider}pal ${hider}refused${hider}`);
    expect([...reason].map((c) => c.codePointAt(0)!.toString(16))).not.toContain(hider.codePointAt(0)!.toString(16));
    expect(reason).toMatch(/^pay ?pal ?refused$/);
  });

  it('keeps letters, digits, punctuation, emoji and text of every script', async () => {
    const text = 'Quota exceeded: 429 — réessayez, 再試行, повторите 😀 (x2)';
    expect(await reasonFor(text)).toBe(text);
  });
});
