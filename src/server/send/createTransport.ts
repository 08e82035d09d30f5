import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { TidingsError } from '../../shared/TidingsError.js';
import { checkAddress, guardedLookup } from '../endpoints/guardedLookup.js';

/** Bytes of an answer read at most: enough for a push service's error text, no more. */
export const ANSWER_BYTES = 512;

/** A push service's answer: the status, the headers a sender acts on, and the start of the body. */
export interface PushAnswer {
  status: number;
  /** Location, for a 307/308 the sender may follow. */
  location?: string;
  retryAfter?: string;
  /** At most ANSWER_BYTES of the body as UTF-8 (unsanitised), or '' for 2xx answers. */
  text: string;
}

export interface Transport {
  /**
   * POSTs `body` to `url`. Rejects with TidingsError `send-failed` (`reason: 'timeout'`
   * or `'address'`), or with the network error.
   */
  post(url: URL, headers: Record<string, string>, body: Uint8Array | null, timeout: number): Promise<PushAnswer>;
  /** Closes idle kept-alive connections. */
  close(): void;
}

/**
 * The HTTP client of send(): node:http(s) with a keep-alive agent per protocol and a
 * `lookup` that checks every address before connecting (guardedLookup). It follows no
 * redirect and reads at most ANSWER_BYTES of an answer; the rest is cancelled by
 * closing the connection. A 2xx answer resolves at its headers: its body says nothing
 * a sender needs, so a push service that streams one forever costs nothing.
 */
export function createTransport({ allowLoopback }: { allowLoopback: boolean }): Transport {
  const lookup = guardedLookup(allowLoopback);
  const agents = {
    'http:': new http.Agent({ keepAlive: true, lookup }),
    'https:': new https.Agent({ keepAlive: true, lookup }),
  };

  function post(url: URL, headers: Record<string, string>, body: Uint8Array | null, timeout: number): Promise<PushAnswer> {
    return new Promise((resolve, reject) => {
      // node:net skips `lookup` for an IP literal, so that address is checked here.
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      try {
        if (isIP(host)) checkAddress(host, allowLoopback);
      } catch (refused) {
        return reject(refused);
      }
      const client = url.protocol === 'https:' ? https : http;
      const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const request = client.request(url, { method: 'POST', headers, agent, lookup });
      // One clock for connect, headers and the bounded body.
      const timer = setTimeout(() => {
        request.destroy();
        settle(() => reject(new TidingsError('send-failed', { reason: 'timeout' })));
      }, timeout);
      request.on('error', (error) => settle(() => reject(error)));
      request.on('response', (response) => {
        const answer: PushAnswer = { status: response.statusCode ?? 0, text: '' };
        if (typeof response.headers.location === 'string') answer.location = response.headers.location;
        if (typeof response.headers['retry-after'] === 'string') answer.retryAfter = response.headers['retry-after'];
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => settle(() => resolve({ ...answer, text: Buffer.concat(chunks).toString('utf8') }));
        const success = answer.status >= 200 && answer.status < 300;
        if (success) finish();
        response.on('data', (chunk: Buffer) => {
          if (size >= ANSWER_BYTES) return;
          if (!success) chunks.push(chunk.subarray(0, ANSWER_BYTES - size));
          size += chunk.length;
          if (size >= ANSWER_BYTES) {
            finish();
            // What is left is not read: the connection goes, and the stream with it.
            request.destroy();
          }
        });
        // A 2xx body that neither ends nor grows is cut off after the same timeout.
        const drain = setTimeout(() => request.destroy(), timeout);
        const done = () => {
          clearTimeout(drain);
          finish();
        };
        // A body that ended within the bound leaves the connection to the agent, for reuse.
        response.on('end', done);
        response.on('error', done);
        response.on('close', done);
      });
      request.end(body ?? undefined);
    });
  }

  return {
    post,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
