// The seam between send() and the network. Node's transport (createNodeTransport: HTTP/2
// where a push service offers it, HTTP/1.1 keep-alive otherwise, every address checked
// at connect time) is one implementation; a runtime without node:http (Bun, Deno,
// Cloudflare's workerd) plugs in another, e.g. over `fetch`, and everything above it (the
// VAPID signer, the encryption, retries, the circuit breaker, pruning) stays the same.

/** Bytes of an answer read at most: enough for a push service's error text, no more. */
export const ANSWER_BYTES = 512;

/** One push: the endpoint, its headers (Authorization, TTL, Content-Encoding, …) and the encrypted body. */
export interface PushRequest {
  url: URL;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array | null;
  /** ms for all of it: connecting, sending, and the answer's headers and bounded body. */
  timeout: number;
}

/** A push service's answer: the status, the headers a sender acts on, and the start of the body. */
export interface PushAnswer {
  status: number;
  /** Location, for a 307/308 the sender may follow. */
  location?: string;
  retryAfter?: string;
  /** At most ANSWER_BYTES of the body as UTF-8 (unsanitised), or '' for 2xx answers, whose body is never read. */
  text: string;
  /**
   * The protocol the answer came over, as ALPN names it, for the latency metrics; a
   * transport that cannot tell (one over `fetch`) leaves it out.
   */
  protocol?: 'http/1.1' | 'h2';
}

/**
 * Why a request failed, in `TidingsError('send-failed', { reason, … }).details`:
 * - `timeout`: no whole answer within `timeout` ms;
 * - `address` (with `kind`): the host is, or its name resolved to, an address sends must not reach; nothing was sent;
 * - `dns` (with `code`): the name did not resolve (`ENOTFOUND`: it does not exist); nothing was sent;
 * - `unprocessed`: the push service turned the request away unread (an HTTP/2 GOAWAY past
 *   its stream, REFUSED_STREAM), so sending it again is no duplicate;
 * - `reset` (with `code`, `message`): the server reset this request's stream (HTTP/2
 *   RST_STREAM other than REFUSED_STREAM): it is alive, and may or may not have taken the push;
 * - `network` (with `message`): anything else; the push may or may not have arrived.
 */
export type TransportFailure = 'timeout' | 'address' | 'dns' | 'unprocessed' | 'reset' | 'network';

export interface Transport {
  /**
   * POSTs one push. Follows no redirect, reads at most ANSWER_BYTES of an answer, gives up
   * after `timeout`. Rejects with TidingsError `send-failed` and a TransportFailure `reason`.
   */
  post(request: PushRequest): Promise<PushAnswer>;
  /**
   * Optional: tells before a push is encrypted and signed whether its host can be reached
   * at all (the name resolves, to addresses sends may reach), so a junk endpoint costs a
   * cached lookup, not the encryption and a VAPID signature. Returns undefined when the
   * host is known to be fine (the common case: no promise), throws or rejects as `post`
   * would (`dns`, `address`) when it is known not to be, or returns a promise while it finds out.
   */
  reach?(url: URL, timeout: number): Promise<void> | void;
  /**
   * Optional: whether the push service at `origin` answers at all (any HTTP status to a
   * request that is not a push, or an HTTP/2 PING), within `timeout`. Asked when pushes
   * to a host that answered before time out one after another: endpoints that hang are
   * not a host that is down, and must not take the host's healthy subscriptions with them.
   */
  alive?(origin: string, timeout: number): Promise<boolean>;
  /** Closes every connection; idle ones close by themselves after a while. */
  close(): void;
}
