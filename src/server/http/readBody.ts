import { TidingsError } from '../../shared/TidingsError.js';

/**
 * Reads a request body as text, stopping as soon as it passes `limit` bytes, so an
 * oversize or endless body costs at most `limit` bytes of memory. Throws TidingsError
 * `invalid-request` with reason `too-large` (the handler answers 413).
 */
export async function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) tooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(): never {
  throw new TidingsError('invalid-request', { field: 'body', reason: 'too-large' });
}
