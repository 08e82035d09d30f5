// atob/btoa exist in pages, workers and Node 16+; a lookup table of our own would cost
// the page bundle about 0.3 KB brotli of its 3 KB budget.

/** Encodes bytes as unpadded base64url (RFC 4648 §5). */
export function toBase64Url(input: ArrayBuffer | ArrayBufferView): string {
  const bytes = ArrayBuffer.isView(input)
    ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8Array(input);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Decodes base64url (or standard base64: push services and browsers mix the two
 * alphabets), with or without `=` padding. Returns null for anything else, so callers
 * decide what bad input means instead of catching.
 */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  // The pattern refuses what atob would forgive: whitespace, and padding out of place.
  if (typeof text !== 'string' || !/^[\w+/-]*={0,2}$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text.replace(/=/g, '').replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Decodes a base64url P-256 public key (VAPID key, `p256dh`): the 65-byte uncompressed
 * point that starts with 0x04, or null for anything else.
 */
export function fromP256Key(text: unknown): Uint8Array<ArrayBuffer> | null {
  const key = fromBase64Url(text as string);
  return key?.length == 65 && key[0] == 4 ? key : null;
}
