import http2, { type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader } from 'node:http2';
import type { Http2Session } from './createHttp2Sessions.js';
import { ANSWER_BYTES, type PushAnswer, type PushRequest } from './Transport.js';
import { toTransportFailure, transportFailure } from './transportFailure.js';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_STATUS } = http2.constants;

/**
 * One push as one stream of a session. The same rules as HTTP/1.1: one clock (`timeout`)
 * for the stream's headers and bounded body, a 2xx settled at its headers, at most
 * ANSWER_BYTES of any answer read; what is past that is cancelled with the stream alone
 * (RST_STREAM), and the session goes on carrying the others. A stream the
 * server refused unread (REFUSED_STREAM, or past a GOAWAY's last stream) fails as
 * `unprocessed`: sending it again is no duplicate.
 */
export function postOverHttp2(entry: Http2Session, { url, headers, body, timeout }: PushRequest, started = 0): Promise<PushAnswer> {
  return new Promise((resolve, reject) => {
    let stream: ClientHttp2Stream;
    try {
      stream = entry.session.request({ [HTTP2_HEADER_METHOD]: 'POST', [HTTP2_HEADER_PATH]: url.pathname + url.search, ...headers }, { endStream: body === null });
    } catch (error) {
      // A session that got a GOAWAY (or just closed) takes no new stream: this one never left.
      return reject(transportFailure('unprocessed', { code: (error as { code?: string }).code ?? 'closed', cause: error }));
    }
    entry.opened();
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const cancel = () => {
      if (!stream.closed) stream.close(NGHTTP2_CANCEL);
    };
    const timer = setTimeout(
      () => {
        cancel();
        settle(() => reject(transportFailure('timeout')));
        // Is the session itself still there? A PING tells; if not, it is replaced.
        entry.suspect(timeout);
      },
      Math.max(1, timeout - started),
    );
    // A stream the server reset comes from a live server: REFUSED_STREAM says it was not
    // read ('unprocessed'); any other code, that it may or may not have taken the push
    // ('reset', unlike silence). Node reports a reset as 'error' (then 'close') or as
    // 'close' alone, so both read the code.
    const closedBy = (code: number | undefined, cause?: Error) =>
      code === NGHTTP2_REFUSED_STREAM
        ? transportFailure('unprocessed', { code: 'REFUSED_STREAM', cause })
        : code
          ? transportFailure('reset', { code, message: `stream reset (${code})`, cause })
          : cause
            ? toTransportFailure(cause)
            : transportFailure('network', { message: 'stream closed (0)' });
    stream.on('close', () => {
      entry.closed();
      settle(() => reject(closedBy(stream.rstCode)));
    });
    stream.on('error', (error: Error & { code?: string }) => settle(() => reject(closedBy(stream.rstCode, error))));
    stream.on('response', (answerHeaders: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
      const answer: PushAnswer = { status: Number(answerHeaders[HTTP2_HEADER_STATUS] ?? 0), text: '', protocol: 'h2' };
      const { location, 'retry-after': retryAfter } = answerHeaders;
      if (typeof location === 'string') answer.location = location;
      if (typeof retryAfter === 'string') answer.retryAfter = retryAfter;
      // A 2xx settles at its headers: its body says nothing a sender needs.
      const success = answer.status >= 200 && answer.status < 300;
      if (success) settle(() => resolve(answer));
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () =>
        settle(() => {
          answer.text = Buffer.concat(chunks).toString('utf8');
          resolve(answer);
        });
      // The body is read to its end when it is short (push services send none, or a line
      // of error): a stream reset after every answer would look like an attack to the
      // server (HTTP/2 "rapid reset", which servers answer with GOAWAY). Past ANSWER_BYTES,
      // or past the timeout, the stream is cancelled.
      const drain = setTimeout(cancel, timeout);
      stream.on('data', (chunk: Buffer) => {
        if (size >= ANSWER_BYTES) return;
        if (!success) chunks.push(chunk.subarray(0, ANSWER_BYTES - size));
        size += chunk.length;
        if (size >= ANSWER_BYTES) {
          finish();
          cancel();
        }
      });
      stream.on('end', finish);
      stream.on('close', () => clearTimeout(drain));
    });
    if (body !== null) stream.end(body);
  });
}
