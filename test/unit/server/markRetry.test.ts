import { describe, expect, it } from 'vitest';
import { markRetry } from '../../../src/server/send/markRetry.js';
import { MAX_PLAINTEXT_BYTES } from '../../../src/shared/protocol.js';

describe('markRetry', () => {
  it('marks any payload the sender makes, an envelope, a sealed or pointer one, declarative JSON', () => {
    const payloads = [
      { v: 1, id: 'a', notification: { title: 'x' } },
      { v: 1, id: 'a', sealed: 'AAAA' },
      { v: 1, id: 'a', fetch: '/m/1' },
      { web_push: 8030, id: 'a', notification: { title: 'x', navigate: 'https://site.example/' } },
    ];
    for (const payload of payloads) {
      expect(JSON.parse(markRetry(JSON.stringify(payload)))).toEqual({ ...payload, retry: true });
    }
  });

  it("overrides an envelope's own retry: false (a batch that runs again may repeat it whatever the caller said)", () => {
    expect(JSON.parse(markRetry('{"v":1,"retry":false}'))).toEqual({ v: 1, retry: true });
  });

  it('leaves a payload unmarked when the mark would take it over the Web Push limit', () => {
    // Two-byte characters: the limit counts bytes, not characters.
    const payload = (chars: number) => JSON.stringify({ v: 1, data: 'é'.repeat(chars) });
    let largest = 0;
    while (Buffer.byteLength(payload(largest + 1)) <= MAX_PLAINTEXT_BYTES) largest++;
    expect(markRetry(payload(largest))).toBe(payload(largest));
    // 20 bytes of room: enough for the mark.
    expect(JSON.parse(markRetry(payload(largest - 10)))).toMatchObject({ retry: true });
  });
});
