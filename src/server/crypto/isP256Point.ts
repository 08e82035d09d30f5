import { fromP256Key } from '../../shared/base64url.js';

/**
 * True when `key` (base64url) is an uncompressed point on P-256. The shape check alone
 * let through 65 bytes that are no point, which then failed every send; WebCrypto's
 * import checks the curve equation, and runs wherever the handler does.
 */
export async function isP256Point(key: string): Promise<boolean> {
  const bytes = fromP256Key(key);
  if (!bytes) return false;
  try {
    await crypto.subtle.importKey('raw', bytes, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    return true;
  } catch {
    return false;
  }
}
