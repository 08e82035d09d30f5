import { TidingsError } from '../../shared/TidingsError.js';

/**
 * Reads a request body as text, stopping as soon as it passes `limit` bytes, so an
 * oversize or endless body costs at most `limit` bytes of memory. Throws TidingsError
 * `invalid-request` with reason `too-large` (the handler answers 413).
 */
export async function readBody(request: Request, limit: number): Promise<string> {
  return (await readBodyBytes(request, limit)).toString('utf8');
}

/** readBody's bytes, as they came (a signature is over these, not over a decoding of them). */
export async function readBodyBytes(request: Request, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) tooLarge();
  if (!request.body) return Buffer.alloc(0);
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
  return Buffer.concat(chunks);
}

function tooLarge(): never {
  throw new TidingsError('invalid-request', { field: 'body', reason: 'too-large' });
}
