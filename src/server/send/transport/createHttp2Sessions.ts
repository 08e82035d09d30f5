import http2, { type ClientHttp2Session } from 'node:http2';
import { isIP, type LookupFunction } from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import { createBoundedMap } from '../../common/createBoundedMap.js';
import { toTransportFailure, transportFailure } from './transportFailure.js';

/** The largest header block a push service's answer may carry, bytes; larger resets the stream. */
const MAX_HEADER_LIST = 16 * 1024;

export interface Http2SessionsOptions {
  lookup: LookupFunction;
  secureContext: SecureContext;
  /** ms a session may stay without streams before it is closed. */
  idleTimeout: number;
  /** Sessions kept at most; past it the one used longest ago is closed (its streams finish first). */
  maxSessions: number;
}

/** A live session to one origin, with what its owner needs to keep it healthy. */
export interface Http2Session {
  session: ClientHttp2Session;
  /** A stream starts (the session stays up meanwhile) or ends. */
  opened(): void;
  closed(): void;
  /** A stream timed out: is the session itself still answering? A PING tells; no answer replaces the session. */
  suspect(timeout: number): void;
}

export interface Http2Sessions {
  /**
   * The session to an https origin, negotiating on first contact: a TLS connection that
   * offers `h2` and `http/1.1` (ALPN). `'http/1.1'` when the origin does not speak HTTP/2
   * (the caller remembers it and uses HTTP/1.1). Rejects as a transport does (`dns`,
   * `address`, `timeout`, `network`).
   */
  get(origin: string, timeout: number): Http2Session | Promise<Http2Session | 'http/1.1'>;
  close(): void;
}

interface Entry extends Http2Session {
  active: number;
  pinging: boolean;
}

/**
 * HTTP/2 sessions to push services: one per origin, carrying as many streams at once as
 * the server allows (nghttp2 queues the rest), server push refused, answers' header blocks
 * bounded. A session goes when it is told to (GOAWAY: streams past its last one are
 * refused, and sent again on a new session), when it fails, when a PING after a timed-out
 * stream goes unanswered, when it has been idle for `idleTimeout`, or when `maxSessions`
 * newer ones push it out. An idle session does not keep the process alive.
 */
export function createHttp2Sessions({ lookup, secureContext, idleTimeout, maxSessions }: Http2SessionsOptions): Http2Sessions {
  // Closing gracefully: streams in flight finish, no new one starts.
  const live = createBoundedMap<string, Entry>(maxSessions, (_origin, entry) => entry.session.close());
  const connecting = new Map<string, Promise<Http2Session | 'http/1.1'>>();

  const forget = (origin: string, entry: Entry) => {
    if (live.peek(origin) === entry) live.delete(origin);
  };

  const start = (origin: string, socket: tls.TLSSocket): Entry => {
    const session = http2.connect(origin, {
      createConnection: () => socket,
      settings: { enablePush: false, maxHeaderListSize: MAX_HEADER_LIST },
      maxHeaderListPairs: 64,
      // Bounds what a session may buffer; past it new streams are refused, not memory grown.
      maxSessionMemory: 4,
    });
    const entry: Entry = {
      session,
      active: 0,
      pinging: false,
      opened() {
        if (entry.active++ === 0) session.ref();
      },
      closed() {
        if (--entry.active === 0) session.unref();
      },
      suspect(timeout) {
        if (entry.pinging || session.destroyed) return;
        entry.pinging = true;
        const timer = setTimeout(() => session.destroy(), timeout);
        timer.unref();
        try {
          session.ping((error) => {
            clearTimeout(timer);
            entry.pinging = false;
            if (error) session.destroy();
          });
        } catch {
          clearTimeout(timer);
          session.destroy();
        }
      },
    };
    session.unref();
    // Without streams for this long: close. (A stream in flight keeps frames coming or times out itself.)
    session.setTimeout(idleTimeout, () => {
      if (entry.active === 0) session.close();
    });
    session.on('error', () => forget(origin, entry));
    session.on('goaway', () => forget(origin, entry));
    session.on('close', () => forget(origin, entry));
    live.set(origin, entry);
    return entry;
  };

  const connect = (origin: string, timeout: number): Promise<Http2Session | 'http/1.1'> =>
    new Promise((resolve, reject) => {
      const url = new URL(origin);
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const socket = tls.connect({
        host,
        port: Number(url.port || 443),
        ...(isIP(host) ? {} : { servername: host }),
        ALPNProtocols: ['h2', 'http/1.1'],
        secureContext,
        lookup,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(transportFailure('timeout'));
      }, timeout);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(toTransportFailure(error));
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        if (socket.alpnProtocol === 'h2') return resolve(start(origin, socket));
        socket.destroy();
        resolve('http/1.1');
      });
    });

  return {
    get(origin, timeout) {
      const entry = live.get(origin);
      if (entry && !entry.session.closed && !entry.session.destroyed) return entry;
      let pending = connecting.get(origin);
      if (!pending) {
        pending = connect(origin, timeout).finally(() => connecting.delete(origin));
        connecting.set(origin, pending);
      }
      return pending;
    },
    close() {
      for (const [, entry] of live.entries()) entry.session.destroy();
    },
  };
}
