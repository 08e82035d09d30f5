import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from '../../../src/shared/base64url.js';

describe('base64url', () => {
  it('round-trips every length and byte value, matching Node', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 0xff);
      const text = toBase64Url(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64url'));
      expect(fromBase64Url(text)).toEqual(bytes);
    }
  });

  it('accepts padding and the standard alphabet, as browsers and push services mix them', () => {
    const bytes = Uint8Array.from([251, 255, 191, 0, 1]);
    expect(fromBase64Url(Buffer.from(bytes).toString('base64'))).toEqual(bytes);
    expect(fromBase64Url('-_-_')).toEqual(fromBase64Url('+/+/'));
  });

  it('returns null for text that is not base64', () => {
    for (const bad of ['a', 'ab=c', 'abc===', '!!!!', 'é', 'ab cd', 'abcde']) expect(fromBase64Url(bad), bad).toBeNull();
    expect(fromBase64Url(42 as unknown as string)).toBeNull();
  });

  it('encodes views over a larger buffer by their own bytes only', () => {
    const buffer = Uint8Array.from([9, 1, 2, 3, 9]);
    expect(toBase64Url(buffer.subarray(1, 4))).toBe('AQID');
    expect(toBase64Url(new DataView(buffer.buffer, 1, 3))).toBe('AQID');
  });
});
