import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { MAX_PUSH_BYTES, URGENCIES } from '../shared/protocol.js';
import { toBase64Url } from '../shared/base64url.js';
import { liveMessages, type PushState, type QueuedMessage } from './pushState.js';
import { verifyVapid } from './verifyVapid.js';

/** An HTTP answer: status, headers and (for errors) an autopush-style JSON body. */
export interface PushAnswer {
  status: number;
  headers: Record<string, string>;
  body?: { code: number; errno: number; error: string; message: string };
}

const MAX_TTL = 30 * 24 * 60 * 60;

/**
 * The RFC 8030 push resource: `POST` of an encrypted message to a subscription's
 * endpoint, with the checks a real push service makes (PUSH-FACTS.md §1, §3.3).
 */
export async function acceptPushMessage(state: PushState, token: string, request: IncomingMessage | Http2ServerRequest): Promise<PushAnswer> {
  const channel = state.channels.get(token);
  if (!channel) return error(404, 102, 'Not Found', 'No such subscription');
  if (channel.gone) return error(410, 106, 'Gone', 'Subscription has expired or was unsubscribed');

  const ttlHeader = request.headers.ttl;
  if (typeof ttlHeader !== 'string' || !/^\d+$/.test(ttlHeader.trim())) return error(400, 111, 'Bad Request', 'TTL header is required: whole seconds >= 0');
  const ttl = Math.min(Number(ttlHeader.trim()), MAX_TTL);

  // Node joins a repeated header with ", ", which then fails the check: RFC 8030 wants 400 for that too.
  const urgency = (request.headers.urgency ?? 'normal') as QueuedMessage['urgency'];
  if (!URGENCIES.includes(urgency)) return error(400, 110, 'Bad Request', 'Urgency must be very-low, low, normal or high');

  const topic = request.headers.topic;
  if (topic !== undefined && (typeof topic !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(topic))) {
    return error(400, 113, 'Bad Request', 'Topic must be 1-32 base64url characters');
  }

  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_PUSH_BYTES) return error(413, 104, 'Payload Too Large', `Body over ${MAX_PUSH_BYTES} bytes`);
  const body = await readLimited(request, MAX_PUSH_BYTES);
  if (!body) return error(413, 104, 'Payload Too Large', `Body over ${MAX_PUSH_BYTES} bytes`);

  const encoding = request.headers['content-encoding'];
  if (body.length > 0) {
    if (encoding !== 'aes128gcm') return error(400, 110, 'Bad Request', 'Content-Encoding must be aes128gcm');
    if (body.length <= 86 + 16 || body[20] !== 65) return error(400, 110, 'Bad Request', 'Not an RFC 8291 aes128gcm body');
  }

  const authorization = request.headers.authorization;
  if (authorization !== undefined || channel.applicationServerKey !== undefined) {
    if (!authorization) return error(401, 109, 'Unauthorized', 'VAPID authorization is required for this subscription');
    const publicKey = verifiedKey(state, authorization);
    if (typeof publicKey !== 'string') return error(403, 109, 'Forbidden', `Invalid VAPID authorization: ${publicKey.reason}`);
    if (channel.applicationServerKey !== undefined && publicKey !== channel.applicationServerKey) {
      return error(403, 109, 'Forbidden', 'VAPID public key mismatch');
    }
    // The ECDH key in the body and the VAPID signing key must differ (RFC 8292 §3.2).
    if (body.length > 0 && toBase64Url(body.subarray(21, 86)) === publicKey) {
      return error(400, 110, 'Bad Request', 'The encryption key must not be the VAPID key');
    }
  }

  const now = state.now();
  const message: QueuedMessage = {
    id: randomBytes(16).toString('base64url'),
    version: randomUUID(),
    body,
    encoding: body.length > 0 ? 'aes128gcm' : undefined,
    ttl,
    urgency,
    topic,
    receivedAt: now,
    expiresAt: now + ttl * 1000,
    httpVersion: request.httpVersion,
  };
  const queue = liveMessages(state, channel);
  if (topic !== undefined) channel.queue = queue.filter((old) => old.topic !== topic);
  // Kept until acked or expired. TTL 0 means delivered now or never (RFC 8030 §5.2):
  // not kept either way, and the sender still gets 201, as autopush answers.
  state.deliver(channel, message);
  if (ttl > 0) channel.queue.push(message);
  return { status: 201, headers: { location: `${state.origin}/m/${message.id}`, ttl: String(ttl) } };
}

/** The VAPID key of a valid header, or why it is not valid. A token seen before skips the signature check. */
function verifiedKey(state: PushState, authorization: string): string | { reason: string } {
  const seconds = state.now() / 1000;
  const known = state.verified.get(authorization);
  if (known && known.exp > seconds && known.exp <= seconds + 24 * 60 * 60) return known.publicKey;
  const verdict = verifyVapid(authorization, { audience: state.origin, now: state.now() });
  if (!verdict.ok) return verdict;
  if (state.verified.size >= 1000) state.verified.clear();
  state.verified.set(authorization, { publicKey: verdict.publicKey, exp: verdict.claims.exp });
  return verdict.publicKey;
}

/** Reads at most `limit` bytes; null when the body is longer. */
function readLimited(request: IncomingMessage | Http2ServerRequest, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export function error(status: number, errno: number, reason: string, message: string): PushAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: { code: status, errno, error: reason, message },
  };
}
