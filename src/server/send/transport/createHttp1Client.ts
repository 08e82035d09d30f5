import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { ANSWER_BYTES, type PushAnswer, type PushRequest } from './Transport.js';
import { toTransportFailure, transportFailure } from './transportFailure.js';
import { hostOf } from './hostOf.js';

export interface ConnectionOptions {
  /** The checking lookup (guardedLookup) every connection resolves its host with. */
  lookup: LookupFunction;
  /** TLS settings shared by every connection (the authorities trusted): made once, not per connection. */
  secureContext: SecureContext;
  /** ms a connection may stay idle before it is closed. */
  idleTimeout: number;
  /** Idle connections kept at most, every host together; past it the one idle longest is closed. */
  maxIdle: number;
}

export interface Http1Client {
  post(request: PushRequest): Promise<PushAnswer>;
  /** A HEAD of `/`: true at any answer. */
  alive(origin: string, timeout: number): Promise<boolean>;
  close(): void;
}

/**
 * HTTP/1.1 with keep-alive: a request object and a connection per push in flight. Idle
 * connections close after `idleTimeout`, and at most `maxIdle` stay open across every
 * host: 2,000 push-service hosts in one send once left 2,000 sockets open for good.
 */
export function createHttp1Client({ lookup, secureContext, idleTimeout, maxIdle }: ConnectionOptions): Http1Client {
  // Idle sockets of both agents, the one idle longest first.
  const idle = new Set<Duplex>();
  const watched = new WeakSet<Duplex>();
  const remember = (socket: Duplex) => {
    if (!watched.has(socket)) {
      watched.add(socket);
      socket.once('close', () => idle.delete(socket));
    }
    idle.add(socket);
    for (const oldest of idle) {
      if (idle.size <= maxIdle) break;
      idle.delete(oldest);
      oldest.destroy();
    }
  };
  // node:http's agents keep sockets per host with no bound across hosts; these two hooks
  // are where a socket becomes idle and where it is taken again.
  const bounded = <A extends http.Agent>(agent: A): A => {
    const keepSocketAlive = agent.keepSocketAlive.bind(agent);
    const reuseSocket = agent.reuseSocket.bind(agent);
    agent.keepSocketAlive = (socket) => {
      const keep = keepSocketAlive(socket) as unknown as boolean;
      if (keep) remember(socket);
      return keep;
    };
    agent.reuseSocket = (socket, request) => {
      idle.delete(socket);
      reuseSocket(socket, request);
    };
    return agent;
  };
  // `timeout` is the agent's idle timeout: a kept socket that sees nothing for that long is closed.
  const shared = { keepAlive: true, lookup, timeout: idleTimeout, scheduling: 'lifo' as const };
  const agents = {
    'http:': bounded(new http.Agent(shared)),
    'https:': bounded(new https.Agent({ ...shared, secureContext, ALPNProtocols: ['http/1.1'] })),
  };

  function post({ url, headers, body, timeout }: PushRequest): Promise<PushAnswer> {
    return new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const hostname = hostOf(url);
      const request = (secure ? https : http).request({
        protocol: url.protocol,
        hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        headers: headerList(url, headers),
        // What node:https would work out from the Host header per request: the name, or none for an IP.
        servername: isIP(hostname) ? '' : hostname,
        agent: agents[secure ? 'https:' : 'http:'],
        lookup,
      });
      // One clock for connect, headers and the bounded body.
      const timer = setTimeout(() => {
        request.destroy();
        settle(() => reject(transportFailure('timeout')));
      }, timeout);
      request.on('error', (error) => settle(() => reject(toTransportFailure(error))));
      request.on('response', (response) => {
        const answer: PushAnswer = { status: response.statusCode ?? 0, text: '', protocol: 'http/1.1' };
        if (typeof response.headers.location === 'string') answer.location = response.headers.location;
        if (typeof response.headers['retry-after'] === 'string') answer.retryAfter = response.headers['retry-after'];
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () =>
          settle(() => {
            if (chunks.length > 0) answer.text = Buffer.concat(chunks).toString('utf8');
            resolve(answer);
          });
        // A 2xx answer resolves at its headers: its body says nothing a sender needs, so a
        // push service that streams one forever costs nothing.
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

  function alive(origin: string, timeout: number): Promise<boolean> {
    return new Promise((resolve) => {
      const url = new URL('/', origin);
      const secure = url.protocol === 'https:';
      const request = (secure ? https : http).request(url, { method: 'HEAD', agent: agents[secure ? 'https:' : 'http:'], lookup });
      const timer = setTimeout(() => request.destroy(), timeout);
      request.on('response', (response) => {
        clearTimeout(timer);
        response.resume();
        resolve(true);
      });
      request.on('error', () => resolve(false));
      request.on('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
      request.end();
    });
  }

  return {
    post,
    alive,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
      idle.clear();
    },
  };
}

/**
 * The request's headers as the flat list node:http writes as it is (name, value, name,
 * value…), with the Host header it would otherwise add itself: an object costs a
 * setHeader() and its checks per header per push. The values are still checked when written.
 */
function headerList(url: URL, headers: Record<string, string>): string[] {
  const list = ['host', url.host];
  for (const name in headers) list.push(name, headers[name]!);
  return list;
}
