import { isIP } from 'node:net';
import { checkAddress } from '../../endpoints/guardedLookup.js';
import { ANSWER_BYTES, type PushAnswer, type PushRequest, type Transport } from './Transport.js';
import { transportFailure } from './transportFailure.js';
import { hostOf } from './hostOf.js';

export interface FetchTransportOptions {
  /** Loopback addresses may be reached (a local push service). */
  allowLoopback: boolean;
  /** The `fetch` to send with. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * send()'s transport over the platform's `fetch`, for runtimes without node:http's
 * connect-time hooks (Cloudflare's workerd). It keeps what it can of the Node transport's
 * rules: no redirect is followed (`redirect: 'manual'`: the sender sees the 3xx), at most
 * ANSWER_BYTES of an answer are read and a 2xx body not at all, one clock per push (an
 * AbortSignal), an IP literal checked as the Node transport checks it. What it cannot
 * keep: `fetch` resolves names itself, so the address actually connected to is not
 * checked (a name that resolves to a private address at send time is not caught here);
 * where it runs, the platform's own rules stand in (Cloudflare's Workers reach public
 * addresses only; a local workerd reaches what its config's network service allows).
 * The protocol (HTTP/1.1 or HTTP/2) is the runtime's choice and is not reported.
 * (DESIGN.md asks for the connect-time address check on every transport; over `fetch`
 * there is no hook for it, so this departs from it, and docs/runtimes.md says so.)
 */
export function createFetchTransport({ allowLoopback, fetch: send = globalThis.fetch }: FetchTransportOptions): Transport {
  return {
    async post({ url, headers, body, timeout }: PushRequest): Promise<PushAnswer> {
      checkHost(url, allowLoopback);
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), timeout);
      try {
        // fetch sets Content-Length from the body itself (and some runtimes refuse it given).
        const { 'content-length': _length, ...rest } = headers;
        const response = await send(url.href, { method: 'POST', headers: rest, body: body as Uint8Array<ArrayBuffer> | null, redirect: 'manual', signal: abort.signal });
        const answer: PushAnswer = { status: response.status, text: '' };
        const location = response.headers.get('location');
        if (location !== null) answer.location = location;
        const retryAfter = response.headers.get('retry-after');
        if (retryAfter !== null) answer.retryAfter = retryAfter;
        // A 2xx body says nothing a sender needs: never read, so one streamed forever costs nothing.
        if (response.status >= 200 && response.status < 300) await response.body?.cancel().catch(() => undefined);
        else answer.text = await readBounded(response);
        return answer;
      } catch (error) {
        if (abort.signal.aborted) throw transportFailure('timeout');
        throw transportFailure('network', { message: String((error as Error)?.message ?? error), cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
    async alive(origin, timeout) {
      try {
        checkHost(new URL(origin), allowLoopback);
        const response = await send(new URL('/', origin).href, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeout) });
        await response.body?.cancel().catch(() => undefined);
        return true;
      } catch {
        return false;
      }
    },
    // fetch keeps (and closes) its own connections.
    close() {},
  };
}

/**
 * The checks that need no lookup: an IP literal must be an address sends may reach, and
 * `localhost` (which resolves to loopback by definition, RFC 6761) is loopback.
 */
function checkHost(url: URL, allowLoopback: boolean): void {
  const host = hostOf(url);
  if (isIP(host)) checkAddress(host, allowLoopback);
  else if (host === 'localhost' || host.endsWith('.localhost')) checkAddress('127.0.0.1', allowLoopback);
}

/** At most ANSWER_BYTES of a body as UTF-8; the rest is never read (the stream is cancelled). */
async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = value.subarray(0, ANSWER_BYTES - size);
      chunks.push(chunk);
      size += chunk.length;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}
